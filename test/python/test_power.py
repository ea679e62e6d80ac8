"""Average power of a measured window (issue 12 item 7). NVML's power reading is a 1-second average
on Ampere and newer, so a short window reads the power from before it; where the energy counter
exists the window's power is its rise over the window. No GPU here: NVML is faked at its seam (the
only one nothing real reaches on this machine), with readings whose true average is known."""
from types import SimpleNamespace

from efficientllm_harness.monitor import window_power_w
from efficientllm_harness.runner import set_power


def counters(energy_j, start, end):
    return SimpleNamespace(energy_j=energy_j, window_start_t=start, window_end_t=end, power_w=None,
                           power_method=None)


def test_power_is_the_energy_counters_rise_over_the_window():
    # 0.25 s at a true 400 W: the counter rises 100 J, while a lagging 1-second average could say 90 W.
    c = counters(100.0, 10.0, 10.25)
    set_power(c, SimpleNamespace(power_works=True))
    assert c.power_w == 400.0 and c.power_method == "energy-counter" and c.energy_j == 100.0


def test_without_a_rise_power_falls_back_to_the_readings_and_energy_is_not_measured():
    for energy in (None, 0.0):
        c = counters(energy, 10.0, 10.25)
        set_power(c, SimpleNamespace(power_works=True))
        assert c.power_w is None and c.energy_j is None and c.power_method == "power-samples"


def test_without_nvml_power_is_not_measured():
    c = counters(None, 0.0, 1.0)
    set_power(c, None)
    assert (c.power_w, c.power_method, c.energy_j) == (None, None, None)


def test_an_empty_window_measures_no_power():
    assert window_power_w(50.0, 3.0, 3.0) is None
