"""The top package: the loop's names importable from it, and nothing heavy loaded up front."""

import subprocess
import sys

import autophagy


def test_the_loop_and_its_step_are_importable_from_the_top_package():
    from autophagy import LoopSettings, LoopSpec, Step, run_loop
    from autophagy.engine import loop, step

    assert (LoopSpec, LoopSettings, run_loop, Step) == (loop.LoopSpec, loop.LoopSettings, loop.run_loop, step.Step)
    assert {"LoopSpec", "LoopSettings", "run_loop", "Step", "run"} <= set(autophagy.__all__)


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, autophagy; from autophagy import Step; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'pandas', 'seaborn', 'sklearn'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
