"""molq's imperative shell: transports, schedulers, the store, reconciliation."""
