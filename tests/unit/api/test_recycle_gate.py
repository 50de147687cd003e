"""The recycle gate: one worker retires at a time, and none while another is loading."""

import multiprocessing

from api.recycle_gate import RecycleGate


def _loading_then_wait(folder, started, release) -> None:
    gate = RecycleGate(folder)
    gate.loading()
    started.set()
    release.wait(10)
    gate.loaded()


def test_no_worker_retires_while_another_loads(tmp_path):
    context = multiprocessing.get_context("fork")
    started, release = context.Event(), context.Event()
    loader = context.Process(target=_loading_then_wait, args=(tmp_path, started, release))
    loader.start()
    try:
        assert started.wait(10)
        assert not RecycleGate(tmp_path).nobody_loading()
        assert not RecycleGate(tmp_path).may_retire()
        release.set()
        loader.join(10)
        assert RecycleGate(tmp_path).nobody_loading()
        assert RecycleGate(tmp_path).may_retire()
    finally:
        release.set()
        loader.join(10)


def test_a_retirement_blocks_the_next_until_a_replacement_starts_loading(tmp_path):
    first, second = RecycleGate(tmp_path), RecycleGate(tmp_path)
    assert first.may_retire()
    assert not second.may_retire(), "the first has no replacement yet"
    replacement = RecycleGate(tmp_path)
    replacement.loading()
    assert not second.may_retire(), "the replacement is loading"
    replacement.loaded()
    assert second.may_retire()
    assert not first.may_retire()
