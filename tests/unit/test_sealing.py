"""Record text sealed at rest: round trips, wrong keys, moved tokens, key rotation and its CLI command."""

from __future__ import annotations

import json
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from cdss.errors import ConfigError, CryptoError
from cdss.sealing import SEALED_TEXT, load_keyring, rotate_data_key, seal, unseal
from cdss.settings import load_settings
from cdss.types import Concept, NodeLabel
from cli import cli
from kg import open_store

TEXTS = {f"RECORD:{n:032x}": f"Patient {n} has fever, cough and a rash on the left arm." for n in range(5)}
FIRST = next(iter(TEXTS))


def _write_records(store, keyring, texts=TEXTS):
    store.upsert_nodes(
        Concept(
            node_id,
            NodeLabel.RECORD,
            f"record {node_id[7:15]}",
            sources=("records",),
            attributes={"mentions": 3, SEALED_TEXT: seal(text, keyring=keyring, aad=node_id)},
        )
        for node_id, text in texts.items()
    )


def _snapshot(store):
    return [node.to_dict() for node in store.iter_nodes()]


def _texts(store, keyring):
    return {
        node.id: unseal(node.attributes[SEALED_TEXT], keyring=keyring, aad=node.id)
        for node in store.iter_nodes(label=NodeLabel.RECORD)
        if SEALED_TEXT in node.attributes
    }


@pytest.fixture
def keyring(tmp_path):
    return load_keyring(tmp_path / "keys" / "data-keys.json")


@pytest.fixture
def graph(tmp_path):
    path = tmp_path / "graph.sqlite"
    store = open_store(str(path), create=True, batch_size=2)
    yield path, store
    store.close()


def test_round_trip(keyring):
    token = seal("Fever and cough.", keyring=keyring, aad=FIRST)
    assert token.startswith("aesgcm1:k1:")
    assert unseal(token, keyring=keyring, aad=FIRST) == "Fever and cough."
    assert seal("Fever and cough.", keyring=keyring, aad=FIRST) != token, "a fresh nonce each time"


def test_neither_the_token_nor_the_sqlite_file_holds_the_text(keyring, graph):
    path, store = graph
    token = seal(TEXTS[FIRST], keyring=keyring, aad=FIRST)
    assert "fever" not in token and "rash" not in token
    _write_records(store, keyring)
    store.close()
    data = path.read_bytes()
    assert b"rash on the left arm" not in data and b"Patient 1" not in data
    assert SEALED_TEXT.encode() in data, "the sealed attribute is there"


def test_the_keyring_file_is_owner_only_and_made_once(tmp_path):
    path = tmp_path / "data-keys.json"
    with ThreadPoolExecutor(4) as pool:
        keyrings = list(pool.map(load_keyring, [path] * 8))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert {bytes(k.keys["k1"]) for k in keyrings} == {keyrings[0].keys["k1"]}, "racing processes share one key"
    stored = json.loads(path.read_text())
    assert stored["active"] == "k1" and list(stored["keys"]) == ["k1"]
    assert "keys=" not in repr(keyrings[0]), "a keyring's repr shows no key"
    assert [p.name for p in tmp_path.iterdir()] == ["data-keys.json"], "no staged file is left"


def test_a_broken_keyring_file_is_a_config_error(tmp_path):
    path = tmp_path / "data-keys.json"
    path.write_text('{"active": "k1", "keys": {"k1": "c2hvcnQ="}}')
    with pytest.raises(ConfigError, match=r"data key 'k1' in .*data-keys.json"):
        load_keyring(path)


def test_another_keyring_names_the_key_and_the_record(keyring, tmp_path):
    other = load_keyring(tmp_path / "other-keys.json")
    token = seal("Fever.", keyring=keyring, aad=FIRST)
    with pytest.raises(CryptoError, match=rf"record {FIRST} with data key 'k1': wrong data key or altered text") as err:
        unseal(token, keyring=other, aad=FIRST)
    assert "Fever" not in str(err.value)
    assert err.value.code == "crypto_error" and err.value.exit_status == 2


def test_a_token_moved_to_another_record_does_not_open(keyring):
    second = list(TEXTS)[1]
    first, other = (seal(TEXTS[i], keyring=keyring, aad=i) for i in (FIRST, second))
    with pytest.raises(CryptoError, match=f"record {second} with data key 'k1'"):
        unseal(first, keyring=keyring, aad=second)
    with pytest.raises(CryptoError, match=f"record {FIRST}"):
        unseal(other, keyring=keyring, aad=FIRST)


def test_altered_and_malformed_tokens(keyring):
    token = seal("Fever.", keyring=keyring, aad=FIRST)
    scheme, key_id, nonce, sealed = token.split(":")
    altered = ":".join((scheme, key_id, nonce, ("A" if sealed[0] != "A" else "B") + sealed[1:]))
    with pytest.raises(CryptoError, match="wrong data key or altered text"):
        unseal(altered, keyring=keyring, aad=FIRST)
    for bad in (
        "Fever.",
        "aesgcm0:k1:x:y",
        f"aesgcm1:k1:{nonce}",
        f"aesgcm1:k1:!!:{sealed}",
        f"aesgcm1:k1:AAAA:{sealed}",
    ):
        with pytest.raises(CryptoError, match=f"the sealed text of record {FIRST} is malformed"):
            unseal(bad, keyring=keyring, aad=FIRST)


def test_rotation_reseals_every_record_and_drops_the_old_key(keyring, graph):
    _, store = graph
    _write_records(store, keyring)
    store.upsert_nodes([Concept("RECORD:" + "f" * 32, NodeLabel.RECORD, "record without text")])
    done = rotate_data_key(store, keyring_path=keyring.path, batch_size=2)
    assert done == {"records": 6, "resealed": 5, "old_keys_dropped": 1, "active": "k2"}
    rotated = load_keyring(keyring.path)
    assert rotated.active == "k2" and list(rotated.keys) == ["k2"]
    assert stat.S_IMODE(keyring.path.stat().st_mode) == 0o600
    assert _texts(store, rotated) == TEXTS
    tokens = [
        n.attributes[SEALED_TEXT] for n in store.iter_nodes(label=NodeLabel.RECORD) if n.attributes.get(SEALED_TEXT)
    ]
    assert all(t.startswith("aesgcm1:k2:") for t in tokens) and len(tokens) == 5
    assert all(n.attributes["mentions"] == 3 for n in store.iter_nodes() if SEALED_TEXT in n.attributes)
    with pytest.raises(CryptoError, match=r"data key 'k1', which the keyring .* lacks \(it holds k2\)"):
        unseal(seal("Fever.", keyring=keyring, aad=FIRST), keyring=rotated, aad=FIRST)


def test_rotation_with_a_keyring_that_cannot_open_the_data_changes_nothing(keyring, graph, tmp_path):
    _, store = graph
    _write_records(store, keyring)
    wrong = load_keyring(tmp_path / "wrong-keys.json")
    before, keyring_before = _snapshot(store), wrong.path.read_bytes()
    with pytest.raises(CryptoError, match="with data key 'k1': wrong data key"):
        rotate_data_key(store, keyring_path=wrong.path)
    assert _snapshot(store) == before
    assert wrong.path.read_bytes() == keyring_before
    with pytest.raises(ConfigError, match="no data keyring at"):
        rotate_data_key(store, keyring_path=tmp_path / "absent.json")
    assert _snapshot(store) == before


def test_a_rotation_that_died_midway_is_finished_by_the_next(keyring, graph):
    """A killed run leaves both keys in the keyring and records sealed with either; a rerun reseals them all."""
    _, store = graph
    _write_records(store, keyring)
    both = json.loads(keyring.path.read_text())
    both["active"], both["keys"]["k2"] = "k2", "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    keyring.path.write_text(json.dumps(both))
    half = load_keyring(keyring.path)
    _write_records(store, half, {FIRST: TEXTS[FIRST]})
    done = rotate_data_key(store, keyring_path=keyring.path)
    assert done == {"records": 5, "resealed": 5, "old_keys_dropped": 2, "active": "k3"}
    assert _texts(store, load_keyring(keyring.path)) == TEXTS


def test_settings_name_the_keyring_file(tmp_path):
    assert load_settings({"CDSS_DATA_DIR": str(tmp_path)}).data_key_file == tmp_path / "data-keys.json"
    custom = tmp_path / "elsewhere" / "keys.json"
    assert load_settings({"CDSS_DATA_KEY_FILE": str(custom)}).data_key_file == custom


def test_cli_rotates_the_data_key(keyring, graph, monkeypatch):
    path, store = graph
    _write_records(store, keyring)
    store.close()
    monkeypatch.setenv("CDSS_DATA_DIR", str(keyring.path.parent))
    monkeypatch.setenv("CDSS_STORE", str(path))
    monkeypatch.delenv("CDSS_DATA_KEY_FILE", raising=False)
    result = CliRunner().invoke(cli, ["keys", "rotate-data-key"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("data key k2 is active: resealed the text of 5 of 5 records, dropped 1 old key(s)")
    with open_store(str(path)) as reopened:
        assert _texts(reopened, load_keyring(keyring.path)) == TEXTS
    monkeypatch.setenv("CDSS_DATA_KEY_FILE", str(keyring.path.with_name("absent.json")))
    failed = CliRunner().invoke(cli, ["keys", "rotate-data-key"])
    assert failed.exit_code == 2 and "no data keyring at" in failed.output
