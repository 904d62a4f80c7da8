"""Late-arriving data: what a partition was built from, when it is final, and whether its source changed.

Pure (no Airflow, no HTTP): the DAGs and the provider's delivery step call these with what they read.

* :mod:`.fingerprint`: a cheap fingerprint of a window's source, per day (conversation details: the
  ``totalHits`` and latest ``conversationEnd`` of one 1-row query; campaign stats: the aggregate counts),
  and the probe request that reads it again;
* :mod:`.finality`: the settle rule (``GENESYS_SETTLE_HOURS``) and the sweep's look-back
  (``GENESYS_RESTATE_DAYS``);
* :mod:`.versions`: the partition's content digest, its version, ``restated_from`` and the reason;
* :mod:`.sweep`: which partitions to probe and which windows to re-run.
"""
