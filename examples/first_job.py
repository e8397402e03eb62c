"""A first molq job on the local scheduler, recorded in ~/.molq/jobs.db."""

from pathlib import Path

from molq import Cluster, Submitor


sub = Submitor(Cluster("laptop", "local"))
handle = sub.submit_job(argv=["python3", "-c", "print(42)"])
record = handle.wait(timeout=60)
print(f"job {record.job_id}: {record.state.value}, exit code {record.exit_code}")
print("stdout:", Path(record.metadata["molq.stdout_path"]).read_text().strip())
print("events in the log for it:", len(sub.store.read_stream(record.job_id)))
sub.close()
