"""Jobs on Apache Spark, for archives and cohorts that outgrow one machine: record ingest and batch ranking.

The driver plans the job and writes to the graph store; executors run the NLP pipeline or the ranking over
partitions. The same functions that make one record's mentions in one process make them on an executor, so
both paths give the same result.
"""
