"""Catalog corrections of issue 9: mesh links, TPU ICI per direction, packed int4 zeros, B300."""

from __future__ import annotations

import pytest

from solver.catalog import load_catalog


def _values(catalog: str, name: str) -> dict[str, float]:
    cat = load_catalog(catalog)
    entry = next(e for e in cat.entries if e.name == name)
    out = {f: float(cat.value(entry, f)) / 1e9 for f in ("bandwidth", "link_bandwidth", "ring_bandwidth")}  # GB/s
    out["links"] = float(cat.value(entry, "links"))
    return out


def test_switched_fabric_rings_get_the_whole_bandwidth() -> None:
    nv = _values("interconnects", "nvlink4")
    assert nv["links"] == 1 and nv["ring_bandwidth"] == nv["bandwidth"] == 450


@pytest.mark.parametrize("name, per_link", [("xgmi", 64), ("xgmi_mi355x", 76.8), ("gaudi3_roce", 75),
                                            ("tpu_v6e_ici", 100), ("tpu_v5e_ici", 50)])
def test_mesh_entries_keep_the_sum_and_give_one_link(name: str, per_link: float) -> None:
    v = _values("interconnects", name)
    assert v["link_bandwidth"] == pytest.approx(per_link)
    assert v["link_bandwidth"] * v["links"] == pytest.approx(v["bandwidth"])
    # a ring reaches its two neighbours over two links, never more than the sum
    assert v["ring_bandwidth"] == pytest.approx(min(v["bandwidth"], 2 * per_link))
    assert v["ring_bandwidth"] < v["bandwidth"]


def test_tpu_v6e_ici_is_per_direction() -> None:
    assert _values("interconnects", "tpu_v6e_ici")["bandwidth"] == 400   # 800 GB/s bidirectional


def _precision(name: str, group: int | None = None) -> float:
    cat = load_catalog("precisions")
    entry = next(e for e in cat.entries if e.name == name)
    bits = float(cat.value(entry, "bits"))
    g = group or float(cat.value(entry, "group_size"))
    return bits + float(cat.value(entry, "scale_bits")) / g


@pytest.mark.parametrize("group", [32, 64, 128])
def test_int4_packs_its_zero_points(group: int) -> None:
    # GPTQ/AWQ: fp16 scale + 4-bit zero per group -> 4 + 16/g + 4/g bits per weight
    assert _precision("int4", group) == pytest.approx(4 + 16 / group + 4 / group)
    # gpt-fast keeps a bf16 zero: 4 + 32/g
    assert _precision("int4_bf16_zeros", group) == pytest.approx(4 + 32 / group)


def test_int4_bytes_per_element_default_group() -> None:
    cat = load_catalog("precisions")
    entry = next(e for e in cat.entries if e.name == "int4")
    assert float(cat.value(entry, "bytes_per_element")) == pytest.approx((4 + 20 / 128) / 8)


def test_b300_and_rtx_pro_6000_editions() -> None:
    cat = load_catalog("gpus")
    by = {e.name: e for e in cat.entries}
    assert float(cat.value(by["b300"], "memory")) == 270e9
    assert float(cat.value(by["b300"], "memory_bandwidth")) == pytest.approx(7.7e12)
    assert float(cat.value(by["rtx_pro_6000_server"], "memory_bandwidth")) == pytest.approx(1.597e12)
    assert float(cat.value(by["rtx_pro_6000"], "memory_bandwidth")) == pytest.approx(1.792e12)
