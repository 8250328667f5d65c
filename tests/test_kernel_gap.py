"""gpus.infer `kernel_gap` and `dram_latency`: the per-kernel cost's measured, per-part pieces.

`kernel_gap`: the gap between dependent graph-replayed kernels (te42kyfo/gpu-benches
gpu-small-kernels: A100 80GB, H200, A40, L40, MI210). `dram_latency`: one dependent load from DRAM
(gpu-benches gpu-latency: V100, A100 40/80GB, H100 PCIe, L40, MI210). A part not measured takes the
measured die nearest in design, and the rest the mean of the NVIDIA parts measured. serving.infer
charges each kernel of a layer the part's gap plus the shared fitted `kernel_overhead` scaled by
the part's DRAM latency over the A100 80GB's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.api import Spec

GAP_MEASURED = ("a100_80gb_sxm", "h200_sxm", "a40", "l40", "mi250x_gcd")
LATENCY_MEASURED = ("v100", "a100_40gb_sxm", "a100_80gb_sxm", "h100_pcie", "l40", "mi250x_gcd")
# parts that take a measured die's figure: the die they share (gpus.infer says which)
GAP_SAME_DIE = {
    "a100_80gb_sxm": ("a100_40gb_sxm", "a100_80gb_pcie"),                                    # GA100
    "h200_sxm": ("h100_pcie", "h100_sxm", "h100_nvl", "h200_nvl", "h20", "gh200"),            # GH100
    "a40": ("a10", "a10g", "rtx_3090"),                                                       # GA102
    "l40": ("l40s", "rtx_4090", "l4"),                                                        # Ada
    "mi250x_gcd": ("mi300x", "mi325x", "mi355x"),                                             # CDNA (MI210's)
}
LATENCY_SAME_DIE = {
    "a100_80gb_sxm": ("a100_80gb_pcie",),
    "h100_pcie": ("h100_sxm", "h100_nvl", "h200_sxm", "h200_nvl", "h20", "gh200"),
    "l40": ("l40s", "rtx_4090", "l4"),
    "mi250x_gcd": ("mi300x", "mi325x", "mi355x"),
}
GAP_DEFAULTED = ("v100", "t4", "b200", "rtx_5090", "apple_m2_ultra", "tpu_v6e", "gaudi3")
LATENCY_DEFAULTED = ("a40", "a10", "rtx_3090", "t4", "b200", "rtx_5090", "apple_m2_ultra", "tpu_v6e", "gaudi3")
PARTS = sorted(set(GAP_MEASURED) | set(LATENCY_MEASURED) | {p for v in GAP_SAME_DIE.values() for p in v}
               | {p for v in LATENCY_SAME_DIE.values() for p in v} | set(GAP_DEFAULTED) | set(LATENCY_DEFAULTED))


@pytest.fixture(scope="module")
def gap(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    text = "import models\nimport gpus\nimport serving\n" + "".join(
        f"d_{p} = serving.deployment {{\n  model = models.llama_3_1_8b\n  gpu = gpus.{p}\n"
        f"  prompt = 128 token\n  output = 128 token\n  batch = 1\n}}\n" for p in PARTS)
    path: Path = tmp_path_factory.mktemp("gap") / "gap.infer"
    path.write_text(text)
    names = [f"d_{p}.{q}" for p in PARTS for q in ("kernel_cost", "kernel_overhead", "layer_overhead",
                                                    "kernels_per_layer")]
    names += [f"gpus.{p}.{q}" for p in PARTS for q in ("kernel_gap", "dram_latency")]
    values = Spec.load(path).evaluator.values(only=names)
    return {k: float(v) for k, v in values.items() if k in names}


def test_measured_parts_are_about_a_microsecond(gap: dict[str, float]) -> None:
    # an empty dependent kernel every 0.9-2 us: far below the 2-5 us a host launch takes
    for p in GAP_MEASURED:
        assert 0.9e-6 <= gap[f"gpus.{p}.kernel_gap"] <= 2.1e-6
    # CDNA's launch path is slower than every NVIDIA part's; the Ada part the fastest
    nvidia = [gap[f"gpus.{p}.kernel_gap"] for p in GAP_MEASURED if p != "mi250x_gcd"]
    assert gap["gpus.mi250x_gcd.kernel_gap"] > max(nvidia)
    assert gap["gpus.l40.kernel_gap"] == min(nvidia)


def test_measured_dram_latencies(gap: dict[str, float]) -> None:
    # a few hundred ns on every part; the GDDR6 Ada part the lowest, HBM2e A100 the highest
    for p in LATENCY_MEASURED:
        assert 250e-9 <= gap[f"gpus.{p}.dram_latency"] <= 410e-9
    nvidia = [gap[f"gpus.{p}.dram_latency"] for p in LATENCY_MEASURED if p != "mi250x_gcd"]
    assert gap["gpus.l40.dram_latency"] == min(nvidia)
    assert gap["gpus.a100_40gb_sxm.dram_latency"] == max(nvidia)


@pytest.mark.parametrize(("field", "table"), [("kernel_gap", GAP_SAME_DIE), ("dram_latency", LATENCY_SAME_DIE)])
def test_unmeasured_parts_take_their_die(gap: dict[str, float], field: str, table: dict[str, tuple[str, ...]]) -> None:
    for measured, parts in table.items():
        for p in parts:
            assert gap[f"gpus.{p}.{field}"] == gap[f"gpus.{measured}.{field}"], p


@pytest.mark.parametrize(("field", "measured", "defaulted", "tol"), [
    ("kernel_gap", ("a100_80gb_sxm", "h200_sxm", "a40", "l40"), GAP_DEFAULTED, 0.006e-6),
    ("dram_latency", ("v100", "a100_80gb_sxm", "h100_pcie", "l40"), LATENCY_DEFAULTED, 0.6e-9),
])
def test_other_parts_take_the_nvidia_mean(gap: dict[str, float], field: str, measured: tuple[str, ...],
                                          defaulted: tuple[str, ...], tol: float) -> None:
    mean = sum(gap[f"gpus.{p}.{field}"] for p in measured) / len(measured)
    for p in defaulted:
        assert gap[f"gpus.{p}.{field}"] == pytest.approx(mean, abs=tol), p


def test_a_layer_pays_gap_plus_the_shared_remainder_at_the_parts_latency(gap: dict[str, float]) -> None:
    remainder = gap["d_a40.kernel_overhead"]
    reference = gap["gpus.a100_80gb_sxm.dram_latency"]
    for p in PARTS:
        assert gap[f"d_{p}.kernel_overhead"] == remainder           # shared: one fitted figure
        cost = gap[f"gpus.{p}.kernel_gap"] + remainder * gap[f"gpus.{p}.dram_latency"] / reference
        assert gap[f"d_{p}.kernel_cost"] == pytest.approx(cost)
        assert gap[f"d_{p}.layer_overhead"] == pytest.approx(gap[f"d_{p}.kernels_per_layer"] * cost)
    # on the A100 80GB the remainder is taken as fitted; the same vLLM layer (10 kernels) costs
    # less on an RTX 4090 (AD102: shorter gap, lower DRAM latency)
    assert gap["d_a100_80gb_sxm.kernel_cost"] == pytest.approx(gap["gpus.a100_80gb_sxm.kernel_gap"] + remainder)
    diff = gap["d_a100_80gb_sxm.layer_overhead"] - gap["d_rtx_4090.layer_overhead"]
    assert diff == pytest.approx(10 * (gap["d_a100_80gb_sxm.kernel_cost"] - gap["d_rtx_4090.kernel_cost"]))
    assert diff > 10 * (1.35e-6 - 0.96e-6)
