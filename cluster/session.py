"""A Spark session from a master URL, and the input formats a job reads."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cdss.errors import ConfigError, InputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FORMATS = ("jsonl", "csv", "parquet", "text")


def spark_session(
    *, master: str, app_name: str, shuffle_partitions: int | None = None, progress: bool = True
) -> SparkSession:
    """The session for `master` (local[N], spark://host:port, yarn, k8s://...); Java must be on the PATH.

    The web UI is off, the console progress bar follows `progress`, and shuffles may be told how many partitions
    to use (the default of 200 costs more than it gives on one machine)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the Spark engine needs pyspark: pip install 'cdss[spark]'") from None
    if shutil.which("java") is None:
        raise ConfigError(
            "the Spark engine needs Java 17 or later on the PATH (Debian: apt-get install openjdk-17-jre)"
        )
    # Python workers run this interpreter (its packages: spaCy, cdss), not whatever `python3` the PATH finds;
    # PySpark reads the variable when the context starts. On a cluster whose nodes keep Python elsewhere,
    # PYSPARK_PYTHON names theirs.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", str(progress).lower())
    )
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def input_format(path: str, given: str | None) -> str:
    """The format named, or the one the path's suffix implies (a folder holds .txt files)."""
    if given is not None:
        if given not in FORMATS:
            raise InputError(f"unknown input format {given!r}: expected one of {', '.join(FORMATS)}")
        return given
    suffix = Path(path.rstrip("/")).suffix.lower()
    found = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet", "": "text"}.get(suffix)
    if found is None:
        raise InputError(f"cannot tell the format of {path!r} from its suffix {suffix!r}: pass --format")
    return found


def read_records(
    session: SparkSession, path: str, *, form: str, id_field: str, text_field: str, id_prefix: str = ""
) -> DataFrame:
    """Records as a DataFrame of (id, text) strings, from any path Spark reads (local, HDFS, S3, ...).

    CSV is read as RFC 4180 (quoted fields may hold newlines and doubled quotes), as Python's csv module reads
    it in the single-process path; a folder of .txt files gives one record per file, named by its stem."""
    from pyspark.sql import functions as F

    if form == "text":
        files = session.sparkContext.wholeTextFiles(f"{path.rstrip('/')}/*.txt")
        frame = files.map(lambda item: (Path(item[0]).stem, item[1])).toDF(["id", "text"])
        return frame.select(F.concat(F.lit(id_prefix), "id").alias("id"), "text").orderBy("id")
    if form == "jsonl":
        frame = session.read.json(path)
    elif form == "csv":
        frame = session.read.csv(path, header=True, multiLine=True, quote='"', escape='"')
    else:
        frame = session.read.parquet(path)
    missing = [f for f in (id_field, text_field) if f not in frame.columns]
    if missing:
        raise InputError(f"{path} has no {' or '.join(repr(m) for m in missing)} field; it has {frame.columns}")
    return frame.select(
        F.concat(F.lit(id_prefix), F.col(id_field).cast("string")).alias("id"),
        F.col(text_field).cast("string").alias("text"),
    )
