from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from scipy import signal

from detect.config import BandPassConfig, NotchConfig
from detect.errors import ConfigError
from detect.filters import (
    FILL_MAX_S,
    MAINS_LINE_DB,
    BandPass,
    Notch,
    SosFilter,
    bandpass_sos,
    detect_mains,
    group_delay_s,
    mains_line_db,
    notch_sos,
    ring_s,
)
from sensor.block import Block
from sensor.stream import LINK_GAP_NOW_S


def _block(x: np.ndarray, fs: float = 1000.0, lost: np.ndarray | None = None) -> Block:
    n = x.shape[1]
    return Block(
        x,
        fs,
        0,
        tuple(f"c{i}" for i in range(n)),
        ("uV",) * n,
        lost if lost is not None else np.zeros(len(x), bool),
    )


def test_bandpass_matches_scipy_started_from_steady_state() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2000, 2)).astype(np.float32)
    bp = BandPass(BandPassConfig(), 1000.0, 2)
    y = bp.process(_block(x)).samples
    sos = signal.butter(4, [20, 450], "bandpass", fs=1000.0, output="sos")
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0].astype(np.float64)[None, None, :]
    expected, _ = signal.sosfilt(sos, x.astype(np.float64), axis=0, zi=zi)
    np.testing.assert_allclose(y, expected.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_bandpass_upper_edge_is_clipped_below_nyquist_at_200_hz() -> None:
    sos = bandpass_sos(20.0, 450.0, 4, 200.0, 0.9)
    _w, h = signal.sosfreqz(sos, worN=[50.0, 99.0], fs=200.0)
    assert abs(h[0]) > 0.9
    with pytest.raises(ConfigError, match="not 200 Hz"):
        bandpass_sos(120.0, 450.0, 4, 200.0, 0.9)
    # Clipped to less than an octave (20-22.5 Hz at 50 Hz): not raw sEMG; 100 Hz keeps 20-45.
    with pytest.raises(ConfigError, match=r"at least 89 Hz .* not 50 Hz"):
        bandpass_sos(20.0, 450.0, 4, 50.0, 0.9)
    assert len(bandpass_sos(20.0, 450.0, 4, 100.0, 0.9)) == 4


def test_notch_removes_mains_and_keeps_emg_band() -> None:
    fs = 1000.0
    t = np.arange(5000) / fs
    hum = np.sin(2 * np.pi * 50 * t) + np.sin(2 * np.pi * 60 * t)
    tone = np.sin(2 * np.pi * 85 * t)
    notch = Notch(NotchConfig(), fs, 1)
    y = notch.process(_block((hum + tone)[:, None])).samples[2500:, 0]

    def amplitude(f: float) -> float:  # of the output's component at f Hz (least squares)
        basis = np.column_stack(
            [np.sin(2 * np.pi * f * t[2500:]), np.cos(2 * np.pi * f * t[2500:])]
        )
        return float(np.hypot(*np.linalg.lstsq(basis, y, rcond=None)[0]))

    assert amplitude(50) < 0.01  # -40 dB
    assert amplitude(60) < 0.01
    # The envelope reads power: a tone between the notches keeps it to within 1 dB (the
    # notches shift its phase, which no stage after them reads).
    assert abs(20 * np.log10(amplitude(85))) < 1.0


def test_a_dc_offset_does_not_ring() -> None:
    x = np.full((500, 1), 300.0, dtype=np.float32)
    y = BandPass(BandPassConfig(), 1000.0, 1).process(_block(x)).samples
    assert np.max(np.abs(y)) < 1e-3


def test_lost_samples_come_out_zero_and_restart_the_filter() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 1)).astype(np.float32) + 100
    lost = np.zeros(300, bool)
    lost[100:150] = True
    f = SosFilter(bandpass_sos(20, 450, 4, 1000.0, 0.9), 1)
    out = f.process(_block(x, lost=lost))
    assert not out.samples[100:150].any()
    assert out.lost[100:150].all()
    fresh = SosFilter(bandpass_sos(20, 450, 4, 1000.0, 0.9), 1).process(_block(x[150:]))
    np.testing.assert_array_equal(out.samples[150:], fresh.samples)


def test_group_delay_is_a_few_milliseconds_for_the_emg_band() -> None:
    d = group_delay_s(bandpass_sos(20, 450, 4, 1000.0, 0.9), 1000.0, 55.0)
    assert 0.001 < d < 0.02


def test_filtering_in_blocks_equals_one_public_sosfilt_call_to_the_bit() -> None:
    # The usual block goes straight to scipy's kernel; it must give what sosfilt gives.
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3000, 3)).astype(np.float32)
    sos = signal.butter(4, [20, 450], "bandpass", fs=1000.0, output="sos")
    f = SosFilter(sos, 3)
    cuts = np.sort(rng.integers(0, len(x), 40))
    parts = [f.filter(c, np.zeros(len(c), dtype=bool)) for c in np.split(x, cuts)]
    zi = signal.sosfilt_zi(sos)[:, :, None] * x[0].astype(np.float64)[None, None, :]
    expected, _ = signal.sosfilt(sos, x, axis=0, zi=zi)
    assert np.array_equal(np.concatenate(parts), expected)


@pytest.mark.parametrize("fs", [200.0, 1000.0, 2000.0])
def test_a_mains_line_is_told_from_semg_alone(fs: float) -> None:
    rng = np.random.default_rng(int(fs))
    n = int(2 * fs)
    sos = signal.butter(4, [20, min(450, 0.45 * fs)], "bandpass", fs=fs, output="sos")
    emg = signal.sosfilt(sos, rng.standard_normal((n, 4)), axis=0) * 20
    assert detect_mains(emg, fs, NotchConfig()) is None
    t = np.arange(n) / fs
    for grid in (50.0, 60.0):
        # Hum with half the sEMG's power: at 200 Hz the sEMG is packed into 70 Hz, so that is
        # about the weakest line that stands 10 dB over it.
        hum = emg.std() * np.sin(2 * np.pi * grid * t)[:, None]
        assert mains_line_db(emg + hum, fs, grid, 3) > MAINS_LINE_DB
        assert detect_mains(emg + hum, fs, NotchConfig()) == grid


HUM_FS = 1000.0
HUM_SOS = np.vstack(
    [bandpass_sos(20, 450, 4, HUM_FS, 0.9), notch_sos(NotchConfig(mains_hz=50), HUM_FS)]
)


def hum_ringing(
    seed: int, gap: slice, after: slice
) -> tuple[npt.NDArray[np.bool_], Callable[[SosFilter], float]]:
    """4 s of sEMG under 50 Hz hum 10x as strong, the samples in ``gap`` lost: the lost mask
    and how far a filter's output over ``after`` strays from the output without the gap."""
    rng = np.random.default_rng(seed)
    t = np.arange(4000) / HUM_FS
    x = (rng.standard_normal(4000) + 10 * np.sin(2 * np.pi * 50 * t))[:, None]
    clean = SosFilter(HUM_SOS, 1).filter(x, np.zeros(4000, dtype=bool))
    lost = np.zeros(4000, dtype=bool)
    lost[gap] = True

    def ring(f: SosFilter) -> float:
        y = f.filter(np.where(lost[:, None], 0.0, x), lost)
        return float(np.sqrt(np.mean((y[after] - clean[after]) ** 2)))

    return lost, ring


def test_a_short_gap_is_filled_so_mains_hum_does_not_ring() -> None:
    # Restarting the notches after a 30 ms gap leaves them ringing, filling the gap from
    # the 0.1 s before it (whole mains periods) does not.
    lost, ring = hum_ringing(5, slice(2000, 2030), slice(2030, 2300))
    filling = SosFilter(HUM_SOS, 1, HUM_FS, fill=True)
    assert ring(filling) < 0.3 * ring(SosFilter(HUM_SOS, 1))
    assert not filling.unfilled.any()
    # A gap of 0.1 s or more is not filled with the default: the filter restarts.
    lost[2000:2100] = True
    filling = SosFilter(HUM_SOS, 1, HUM_FS, fill=True)
    filling.filter(np.zeros((4000, 1)), lost)
    assert filling.unfilled[2099]


def test_a_gap_up_to_the_merge_gap_is_filled_period_by_period() -> None:
    # 0.3 s lost: the last 0.1 s repeated three times keeps the hum in phase, so the
    # filter's output after the gap is close to the one it would have had.
    lost, ring = hum_ringing(6, slice(2000, 2300), slice(2300, 2600))
    filling = SosFilter(HUM_SOS, 1, HUM_FS, fill=0.5)
    assert ring(filling) < 0.3 * ring(SosFilter(HUM_SOS, 1))
    assert not filling.unfilled.any()
    # Half a second is not filled, and no setting fills more than FILL_MAX_S.
    lost[2000:2500] = True
    for fill in (0.5, 2.0):
        filling = SosFilter(HUM_SOS, 1, HUM_FS, fill=fill)
        filling.filter(np.zeros((4000, 1)), lost)
        assert filling.unfilled[2499]
        assert not filling.unfilled[2498]
    assert FILL_MAX_S < LINK_GAP_NOW_S  # a lost link is never filled


def test_a_chains_ring_is_its_slowest_poles_time_constant() -> None:
    # A notch's ring: Q / (pi f0), 64 ms at 50 Hz with Q 10; a chain rings as its slowest part.
    notch = notch_sos(NotchConfig(mains_hz=50, harmonics=1, q=10.0), 1000.0)
    assert ring_s(notch, 1000.0) == pytest.approx(10 / (np.pi * 50), rel=0.02)
    band = bandpass_sos(20.0, 450.0, 4, 1000.0, 0.9)
    assert ring_s(band, 1000.0) < ring_s(np.vstack([band, notch]), 1000.0)
    assert ring_s(np.zeros((0, 6)), 1000.0) == 0.0
