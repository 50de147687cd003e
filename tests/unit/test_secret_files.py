"""Secret files made once: several workers starting together share one record-id key, and nobody fails."""

from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor

from cdss.record_ids import KEY_FILE, record_id_key
from cdss.settings import load_settings


def _key(data_dir: str) -> bytes:
    return record_id_key(load_settings({"CDSS_DATA_DIR": data_dir}))


def test_workers_starting_together_share_one_record_id_key(tmp_path):
    with ProcessPoolExecutor(4) as pool:
        keys = list(pool.map(_key, [str(tmp_path)] * 16))
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE], "no staged file is left"
