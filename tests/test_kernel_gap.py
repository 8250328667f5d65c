"""gpus.infer `kernel_gap`: each part's measured gap between dependent graph-replayed kernels.

The measured parts (te42kyfo/gpu-benches gpu-small-kernels: A100 80GB, H200, A40, L40, MI210) give
their own figure; a part not measured takes the measured die nearest in design, and the rest the
mean of the four NVIDIA parts measured. serving.infer charges each kernel of a layer the part's
gap plus the shared fitted `kernel_overhead`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.api import Spec

MEASURED = ("a100_80gb_sxm", "h200_sxm", "a40", "l40", "mi250x_gcd")
# parts that take a measured die's figure: the die they share (gpus.infer says which)
SAME_DIE = {
    "a100_80gb_sxm": ("a100_40gb_sxm", "a100_80gb_pcie"),                                    # GA100
    "h200_sxm": ("h100_pcie", "h100_sxm", "h100_nvl", "h200_nvl", "h20", "gh200"),            # GH100
    "a40": ("a10", "a10g", "rtx_3090"),                                                       # GA102
    "l40": ("l40s", "rtx_4090", "l4"),                                                        # Ada
    "mi250x_gcd": ("mi300x", "mi325x", "mi355x"),                                             # CDNA (MI210's)
}
DEFAULTED = ("v100", "t4", "b200", "rtx_5090", "apple_m2_ultra", "tpu_v6e", "gaudi3")
PARTS = sorted(set(MEASURED) | {p for v in SAME_DIE.values() for p in v} | set(DEFAULTED))


@pytest.fixture(scope="module")
def gap(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    text = "import models\nimport gpus\nimport serving\n" + "".join(
        f"d_{p} = serving.deployment {{\n  model = models.llama_3_1_8b\n  gpu = gpus.{p}\n"
        f"  prompt = 128 token\n  output = 128 token\n  batch = 1\n}}\n" for p in PARTS)
    path: Path = tmp_path_factory.mktemp("gap") / "gap.infer"
    path.write_text(text)
    names = [f"d_{p}.{q}" for p in PARTS for q in ("kernel_cost", "kernel_overhead", "layer_overhead",
                                                    "kernels_per_layer")]
    names += [f"gpus.{p}.kernel_gap" for p in PARTS]
    values = Spec.load(path).evaluator.values(only=names)
    # the part's own figure under the deployment's name, as the tests read it
    return {k.replace(f"gpus.{p}.", f"d_{p}.gpu.") if k.startswith("gpus.") else k: float(v)
            for k, v in values.items() if k in names for p in [k.split(".")[1]]}


def test_measured_parts_are_about_a_microsecond(gap: dict[str, float]) -> None:
    # an empty dependent kernel every 0.9-2 us: far below the 2-5 us a host launch takes
    for p in MEASURED:
        assert 0.9e-6 <= gap[f"d_{p}.gpu.kernel_gap"] <= 2.1e-6
    # CDNA's launch path is slower than every NVIDIA part's; the Ada part the fastest
    nvidia = [gap[f"d_{p}.gpu.kernel_gap"] for p in MEASURED if p != "mi250x_gcd"]
    assert gap["d_mi250x_gcd.gpu.kernel_gap"] > max(nvidia)
    assert gap["d_l40.gpu.kernel_gap"] == min(nvidia)


@pytest.mark.parametrize("measured", sorted(SAME_DIE))
def test_unmeasured_parts_take_their_die(gap: dict[str, float], measured: str) -> None:
    for p in SAME_DIE[measured]:
        assert gap[f"d_{p}.gpu.kernel_gap"] == gap[f"d_{measured}.gpu.kernel_gap"], p


def test_other_parts_take_the_nvidia_mean(gap: dict[str, float]) -> None:
    nvidia = [gap[f"d_{p}.gpu.kernel_gap"] for p in MEASURED if p != "mi250x_gcd"]
    for p in DEFAULTED:
        assert gap[f"d_{p}.gpu.kernel_gap"] == pytest.approx(sum(nvidia) / len(nvidia), abs=0.006e-6), p


def test_a_layer_pays_gap_plus_the_shared_remainder(gap: dict[str, float]) -> None:
    remainder = gap["d_a40.kernel_overhead"]
    for p in PARTS:
        assert gap[f"d_{p}.kernel_overhead"] == remainder           # shared: one fitted figure
        cost = gap[f"d_{p}.gpu.kernel_gap"] + remainder
        assert gap[f"d_{p}.kernel_cost"] == pytest.approx(cost)
        assert gap[f"d_{p}.layer_overhead"] == pytest.approx(gap[f"d_{p}.kernels_per_layer"] * cost)
    # the same vLLM layer (10 kernels) costs 10 x (1.35 - 0.96) us more on an A100 than an RTX 4090
    diff = gap["d_a100_80gb_sxm.layer_overhead"] - gap["d_rtx_4090.layer_overhead"]
    assert diff == pytest.approx(10 * (gap["d_a100_80gb_sxm.gpu.kernel_gap"] - gap["d_rtx_4090.gpu.kernel_gap"]))
    assert diff > 0
