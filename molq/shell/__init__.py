"""molq's imperative shell: the job lifecycle (submission, reconciliation, monitoring, sweeps).

Its floors below: ``store`` (the event log), ``schedulers`` (adapters) and ``transport`` (where commands run).
"""
