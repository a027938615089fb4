"""Settings of the detection pipeline: one frozen pydantic model per stage, units in the names.

Every default below has a reason, cited where it is set. The whole config is saved with
every output (episode log, recording, report) so a result can be traced to what made it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BandPassConfig(_Frozen):
    """Band-pass of the sEMG: 20-450 Hz keeps the sEMG band (SENIAM, Hermens et al. 2000).

    The upper edge is clipped to ``nyquist_fraction`` of the Nyquist rate on slow devices
    (a Myo armband samples at 200 Hz).
    """

    low_hz: float = Field(default=20.0, gt=0)
    high_hz: float = Field(default=450.0, gt=0)
    order: int = Field(default=4, ge=1, le=8)
    nyquist_fraction: float = Field(default=0.9, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> BandPassConfig:
        if self.low_hz >= self.high_hz:
            raise ValueError(f"low_hz ({self.low_hz}) must be below high_hz ({self.high_hz})")
        return self


class NotchConfig(_Frozen):
    """Mains notches at 50 or 60 Hz and their harmonics.

    ``"auto"`` finds the grid from the signal: the stream starts with both sets of notches,
    and after its first ``detect.filters.MAINS_DETECT_S`` (2 s, the resting level's warm-up,
    so no episode can have started) the set of the grid whose line stands out is kept. A
    battery device far from mains shows no line: both sets stay.

    A notch rings with the time constant Q / (pi f0), and a line switched on or off (a lamp,
    a charger, a hand on a metal bed frame) or an electrode pop (a step in the electrode's
    potential) rings on in it; a ring over the on threshold for 0.5 s is an episode. Measured
    on resting noise at 1 kHz (a line 100-1000 times its RMS switched every 30 s; steps
    2000-6000 times it decaying over 0.1-1 s): the usual Q of 30 (0.19 s at 50 Hz) made an
    episode of every switch and every step; Q 10 (64 ms, 5 Hz wide at 50 Hz) made none, and
    the fundamental 4 Hz wide (Q 12.5) still did at 1000 times. A Q of 10 for every notch
    rather than 5 Hz for every one (the harmonics then ring no longer than the fundamental)
    was chosen on the study set (``spasmwatch bench accuracy --study``): mean F1 0.952
    against 0.949, the lowest 0.889 for both (Q 30: 0.949, lowest 0.824). Six notches (both
    grids, three harmonics) take 66 Hz of the 20-450 Hz band; one grid's, 30 or 36 Hz.
    """

    mains_hz: Literal["auto", "off", 50, 60] = "auto"
    harmonics: int = Field(default=3, ge=1, le=10)
    q: float = Field(default=10.0, gt=0)

    def grids(self) -> list[float]:
        """The mains fundamentals notched from the start, Hz."""
        if self.mains_hz == "off":
            return []
        return [50.0, 60.0] if self.mains_hz == "auto" else [float(self.mains_hz)]

    def frequencies(self, grid: float | None = None) -> list[float]:
        """Notch frequencies in Hz: one grid's fundamental and harmonics (all grids, one grid
        after the other, when ``grid`` is None)."""
        grids = self.grids() if grid is None else [grid]
        return [g * k for g in grids for k in range(1, self.harmonics + 1)]


class EcgConfig(_Frozen):
    """ECG suppression on trunk sites.

    A 4th-order Butterworth high-pass at 30 Hz is the best single trade-off between removing
    ECG and keeping trunk sEMG (Drake and Callaghan 2006). What the high-pass leaves of each
    QRS complex (up to 120 ms, the longest normal QRS) is then ignored by an envelope that
    needs ``1 - envelope_quantile`` of its window filled: 40 % of 300 ms is 120 ms.
    ``"auto"`` applies both to channels whose body location names a trunk site: a region
    (neck, back, chest, abdomen or abdominal, trunk, shoulder, torso; lumbar, thoracic,
    cervical; the spine and paraspinal, erector spinae, intercostal) or a trunk muscle
    (trapezius, pectoralis, obliques, latissimus, rhomboids, sternocleidomastoid), matched
    within the name (``trunk_words``). A back recording named by its muscle ("left erector
    spinae") got no ECG suppression, and every heartbeat was a spasm. A location naming a
    limb (``limb_words``: a region or a limb muscle) gets none; so does the back of one
    ("back of the thigh" is the thigh's).

    A channel whose location names neither (no location given: "unspecified") is looked at
    instead (``look_s``, see ``detect.heart``): the ECG suppression is on when a heartbeat
    runs through its first seconds. Without it, the bench's trunk recordings replayed with
    no location scored F1 0.00-0.20 (up to 1132 false episodes an hour); with it always on,
    limbs paid (real forearm recordings up to 84 false episodes an hour). The look: 10 s,
    the length of the standard 12-lead ECG's recording, 6 beats at 40 a minute. A beat is
    the gate's (below), frames ``refractory_s`` apart or closer being one (250 ms, the
    shortest interval at over 200 a minute; a QRS and what its T wave leaves in the band).
    A heart runs through it when the median interval is a heart's at rest or in a spasm's
    distress (``rate_per_min``, 40-180 a minute); when the intervals within 20 % of that
    median (``regular_fraction``: the rule that HRV editing removes ectopic beats by, the
    HRV Task Force 1996) cover at least half of the look (``cover``: a contraction in the
    look hides the beats under it); and when the beats' median peak in the ECG's band
    stands ``peak_db`` (20 dB: ten times the band's usual amplitude) over the band's median;
    and when the beats look alike (``alike``): the median correlation of each beat's
    waveform in the ECG's band, ``shape_s`` either side of its largest value (50 ms: a QRS
    lasts up to 120 ms), with the next beat's is 0.8 or more. One heart repeats its QRS
    complex (a beat peaking 20 dB over the band's median holds ten times or more the
    band's usual power in those 100 ms, so the band's own noise leaves two identical beats
    correlated at 0.9 or more); a burst of sEMG is an interference pattern that never
    repeats. Real gait, where bursts of the semitendinosus came every 1.2 s with movement
    artefacts after them, passed the three tests before it (6.5 s of gait, read as 56 a
    minute), and its beats' correlation was -0.08.

    Measured on the bench's recordings, first, second and third 10 s apart: every trunk
    one covered 0.67-0.94 with peaks of 37-43 dB; the real tibialis anterior recording
    (whose ECG shows plainly) 0.44-0.72 at 28-32 dB; every other limb one (real forearm,
    thigh in gait, biceps; simulated) at most 0.65, and those that reached 0.3 peaked at
    11-18 dB. The beats' correlation: 1.00 on the simulated trunk, 0.98 on the tibialis
    anterior's real ECG; on limbs from -0.9 to 0.91 (movement artefacts in the thigh's gait
    repeat too, but those channels failed the other tests). The ECG suppression is then
    chosen once; until the look ends the channel's episodes wait (the session's first
    ``look_s``), and the stream goes on as if the choice had been made from its start.

    The envelope ignores the QRS residue, but the frame powers the rest of the detector reads
    do not: the resting mean power the rhythm test starts from, the rhythm and type windows
    and an episode's mean carry each beat's residue (10-14 dB over resting sEMG for 40-70 ms
    in simulated lower-back recordings at 200 Hz-2 kHz; 2.5-4 dB on the resting mean power).
    It hid clonus: on 30 lower-back recordings (seeds 99001-99003; 200, 256, 500, 1000 and
    2000 Hz; 6 and 10 dB), clonic spasms of 3-12 s at 6 dB went unseen, mean F1 0.79
    against 0.91 for the same recordings without ECG. So the frames a QRS complex covers are
    gated (QRS-gated blanking, what the high-pass leaves to it: Drake and Callaghan 2006).
    Each beat shows in the ECG's own band, ``qrs_low_hz``-``qrs_high_hz``: 10-25 Hz, about
    the 17 Hz centre Thakor et al. 1984 found best for the QRS complex against P and T waves
    (under 10 Hz) and muscle noise; 5-15 Hz (Pan and Tompkins 1985) let T waves through as a
    second beat each, and the gated frames then cut into clonic bursts. A frame is in a beat
    when its power in that band is ``gate_ratio`` times (10 dB) the band's running median
    over ``gate_median_s`` (beats fill well under half of 2 s even at 150 a minute; band-
    limited noise passes 10 times its median in about 0.1 % of frames, an R wave rose 22-32
    dB over it) and more than its power in the sEMG band (an sEMG burst raises both, the
    sEMG band far more). The frames from ``gate_lead_s`` before such a frame to its last have
    their power capped at the envelope's: the residue began up to 20 ms before the ECG band
    crossed the ratio (200 Hz-2 kHz), so a trunk stream's frames reach the episode logic
    ``gate_lead_s`` late (onsets are back-dated for it). On the 30 recordings: mean F1 0.79 ->
    0.88; resting mean power within 0.25 dB of the same rest without ECG; without ECG, under
    1 % of frames change. Checked apart, on neck and chest recordings of other seeds (99004-
    99006; 200, 500, 1000 and 2000 Hz; 10 and 15 dB): 0.90 -> 0.95. The bench's full suite:
    F1 unchanged case by case, type agreement on the neck 76 -> 86 %.
    """

    mode: Literal["auto", "on", "off"] = "auto"
    highpass_hz: float = Field(default=30.0, gt=0)
    envelope_quantile: float = Field(default=0.6, gt=0, le=1)
    trunk_words: tuple[str, ...] = (
        *("neck", "back", "chest", "abdom", "trunk", "shoulder", "torso"),
        *("lumbar", "thorac", "cervical", "spin", "erector", "intercostal"),
        *("trapez", "pector", "oblique", "latissimus", "rhomboid", "sternocleido"),
    )
    gate: bool = True
    qrs_low_hz: float = Field(default=10.0, gt=0)
    qrs_high_hz: float = Field(default=25.0, gt=0)
    gate_ratio: float = Field(default=10.0, gt=1)
    gate_median_s: float = Field(default=2.0, gt=0)
    gate_lead_s: float = Field(default=0.03, ge=0)
    limb_words: tuple[str, ...] = (
        *("arm", "elbow", "wrist", "hand", "palm", "finger", "thumb"),
        *("leg", "thigh", "knee", "calf", "shin", "ankle", "foot", "toe"),
        *("biceps", "triceps", "brachi", "flexor", "extensor", "thenar", "femor"),
        *("hamstring", "quadricep", "vastus", "tibialis", "gastrocnem", "soleus", "peroneus"),
    )
    look_s: float = Field(default=10.0, ge=0)
    refractory_s: float = Field(default=0.25, gt=0)
    rate_per_min: tuple[float, float] = (40.0, 180.0)
    regular_fraction: float = Field(default=0.2, gt=0, lt=1)
    cover: float = Field(default=0.5, gt=0, le=1)
    peak_db: float = Field(default=20.0, ge=0)
    shape_s: float = Field(default=0.05, gt=0)
    alike: float = Field(default=0.8, ge=-1, le=1)

    @model_validator(mode="after")
    def _band(self) -> EcgConfig:
        if self.qrs_low_hz >= self.qrs_high_hz:
            raise ValueError(
                f"qrs_low_hz ({self.qrs_low_hz:g}) must be below qrs_high_hz ({self.qrs_high_hz:g})"
            )
        slow, fast = self.rate_per_min
        if not 0 < slow < fast:
            raise ValueError(
                f"rate_per_min ({slow:g}, {fast:g}) must be the slowest and the fastest heart "
                "rate, both over 0"
            )
        return self


class AccConfig(_Frozen):
    """Accelerometer chain: gravity and posture out, spasm movement in.

    A band-pass of 3-12 Hz removes gravity and slow posture changes (< 0.5 Hz) and keeps
    clonus and tremor (4-8 Hz, 8-12 Hz).
    """

    low_hz: float = Field(default=3.0, gt=0)
    high_hz: float = Field(default=12.0, gt=0)
    order: int = Field(default=4, ge=1, le=8)


class EnvelopeConfig(_Frozen):
    """A robust RMS envelope.

    The signal's mean square is taken over frames of ``hop_s``; the envelope is the
    ``quantile`` of those frames over the last ``window_s``. A contraction raises it once it
    fills ``1 - quantile`` of the window, while impulses shorter than that leave it alone:
    75 ms of 300 ms by default, short enough that each burst of 3-8 Hz clonus (half of its
    period) shows, long enough to ignore spikes. Trunk sites use ``EcgConfig``'s quantile.
    The window is a little longer than the usual 50-250 ms RMS window because an order
    statistic needs more frames than a mean.
    """

    window_s: float = Field(default=0.3, gt=0, le=2)
    hop_s: float = Field(default=0.01, gt=0, le=0.1)
    quantile: float = Field(default=0.75, gt=0, le=1)


class BaselineConfig(_Frozen):
    """The resting level: a running estimate in dB that adapts slowly and holds during episodes.

    It falls faster than it rises so it follows the quiet floor of the signal rather than
    the contractions that do not reach threshold.
    """

    rise_tau_s: float = Field(default=30.0, gt=0)
    fall_tau_s: float = Field(default=3.0, gt=0)
    warmup_s: float = Field(default=2.0, ge=0)
    warmup_tau_s: float = Field(default=0.3, gt=0)


class ThresholdConfig(_Frozen):
    """On and off thresholds with hysteresis, over the resting level.

    The envelope must rise ``on_db`` over the resting level (and ``on_above`` units over it,
    if set) to start an episode; it stays in the episode while above ``off_db`` (and
    ``off_above``).

    Resting signals are not always quiet noise: heartbeats, stimulation spikes, quantisation
    or a slow device make the resting envelope fluctuate more. So the thresholds are also
    set from the spread of the resting envelope, as thresholds set from the resting noise's
    variability are (Bonato et al. 1998; Lidierth 1986): on at ``on_spread`` times the rest
    spread over the resting level, off at ``off_spread`` times. The spread is a running mean
    absolute deviation of the envelope from the resting level, in dB, over ``spread_tau_s``,
    with each deviation capped at ``spread_cap`` times the current spread so a single
    artefact cannot blow it up. ``spread`` False uses the fixed rules alone (as the AASM
    preset does). The spread's margin never asks more than ``on_max_db`` (the off margin
    shrinks with it): 20 dB is ten times the resting amplitude, a contraction whatever the
    rest did. Real recordings' rest is not the simulator's steady noise: leftover activity
    between contractions and slow wander raised the spread until the margin asked 25-60 dB
    (the Myo armband's second series up to 63 dB, cyclic biceps contractions 30-40 dB),
    and contractions 20-30 dB over rest went unseen: 4 of about 30 cycles of a 2 min biceps
    fatigue recording were found (29 with the ceiling), none of 9 biceps bursts in a 28 s
    one (5; the other 4, in its first seconds, were learnt as rest until the detector
    checked the stream's start). On the simulated cases the margin stays under 11 dB, so
    nothing there changes; the tibialis recording keeps its 56 of 56 (a 15 dB ceiling: 66,
    after-bursts of 7-10 dB counted).

    A confirmed contraction ends when the envelope falls ``release_db`` below the highest
    envelope of the episode so far (14 dB: 20 % of its RMS amplitude, the fraction common
    fixed-fraction-of-peak offset criteria use), even if some muscle tone above rest remains;
    None turns that off. The peak, not the episode's mean: a mean drifts down while tone
    holds the episode, so the tone would keep itself in and join two contractions (a Myo
    armband's gestures 2.5 s apart: 8 of 10 found instead of 10). Not before confirmation,
    so a short spasm's ramps are not cut under the minimum duration. When the envelope,
    released, then falls to rest within the merge gap, the episode ends where it reached
    rest: that is where a contraction fading out ended. When it stays over the on threshold
    instead, the episode is held open: falling under it within 2 s, it ends at its release
    (tone fading out); still over it after 2 s, it goes on, weaker, and its release is
    judged from its level then (``detector.STEADY_S``). Without that, a flexor spasm's
    phasic burst and its tonic phase 6-14 dB under it were two episodes, and a spasm fading
    over 30 s three.

    Before it is confirmed, a contraction is kept only while over ``candidate_spread``
    spreads (3; ``off_spread``, 2.5, once confirmed). Where the spread sets the off margin
    (200-250 Hz devices: the envelope of 2-sample frames spreads about 1.2 dB at rest, so
    2.5 spreads is 3 dB; at 1 kHz the 2.5 dB floor is 6 spreads), the resting envelope's
    excursions reached 2.5 spreads for long enough to carry a twitch of 0.12-0.22 s to the
    minimum duration: an hour of simulated rest with a twitch every 30 s (seed 99021; calf
    and lower back at 250 Hz, forearm at 200 Hz) gave 3, 2 and 1 false episodes; 1, 0 and
    0 with 3 spreads (3.5: none, but a 6 dB spasm at 200 Hz of the study set was lost).
    Only before confirmation: 3.5 spreads throughout split weak spasms at low rates (study
    set 0.952 -> 0.930). With 3: the quick suite unchanged case by case, the study set
    0.952 -> 0.954 (shin-250Hz-8dB's false episode gone). Checked apart on 12 calf
    recordings at 250 Hz (seeds 99101-99112, 10 min, 12 dB, 0.2 spasms a minute): 19 false
    episodes -> none, mean F1 0.80 -> 0.97, no spasm lost.
    """

    on_db: float = Field(default=4.5, ge=0)
    off_db: float = Field(default=2.5, ge=0)
    on_above: float = Field(default=0.0, ge=0)
    off_above: float = Field(default=0.0, ge=0)
    spread: bool = True
    on_spread: float = Field(default=5.0, ge=0)
    off_spread: float = Field(default=2.5, ge=0)
    spread_tau_s: float = Field(default=10.0, gt=0)
    spread_cap: float = Field(default=3.0, gt=1)
    on_max_db: float | None = Field(default=20.0, gt=0)
    release_db: float | None = Field(default=14.0, gt=0)
    candidate_spread: float = Field(default=3.0, ge=0)

    @model_validator(mode="after")
    def _hysteresis(self) -> ThresholdConfig:
        if self.off_db > self.on_db or self.off_above > self.on_above:
            raise ValueError("the off threshold must not be above the on threshold")
        if self.off_spread > self.on_spread:
            raise ValueError("off_spread must not be above on_spread")
        if self.candidate_spread > self.on_spread:
            raise ValueError("candidate_spread must not be above on_spread")
        return self


class EpisodeConfig(_Frozen):
    """Timing rules.

    An episode is confirmed once it has lasted ``min_duration_s``; it ends when the envelope has
    stayed below the off threshold for ``merge_gap_s``, so gaps shorter than that are merged.
    """

    min_duration_s: float = Field(default=0.5, ge=0)
    merge_gap_s: float = Field(default=0.5, ge=0)
    #: An episode still going after this long is cut short (``interrupted``) and the level it
    #: holds is learnt as the new rest (warm-up and start check, as after an electrode put
    #: back). Muscle cramps, the longest involuntary contractions commonly described, last from
    #: seconds to a few minutes, rarely ten; a rest that stepped up without a flat stretch (an
    #: electrode lifting partly, a new contact) otherwise held one episode, or a chain of
    #: them, to the stream's end, and nothing else was found. A contraction that goes on past
    #: the limit is split: the start check finds its rest again if it ends within
    #: ``detect.detector.START_S``, and it is taken for rest if it lasts longer still.
    #: None: no limit.
    max_duration_s: float | None = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _longest(self) -> EpisodeConfig:
        if self.max_duration_s is not None and self.max_duration_s <= self.min_duration_s:
            raise ValueError("max_duration_s must be longer than min_duration_s")
        return self


class TypeConfig(_Frozen):
    """Telling tonic, clonic and mixed apart from the episode's windows.

    The episode's last ``window_s`` is measured every half window (windows overlap by half, so
    a short or changing episode still gets several looks).
    Clonus is rhythmic at 3-8 Hz. sEMG: a window's 10 ms frame amplitudes (the square root of
    their power: power would let a single spike, a QRS residue on the trunk, dominate) beat
    at 3-8 Hz when their autocorrelation at some period in that range exceeds the one at half
    that period by ``rhythm_contrast`` (the amplitudes capped at the window's 90th percentile
    first, so a QRS residue or a spike cannot decide it). Measured on simulated calf and
    lower-back recordings at 15 dB (seeds 77001-77008, apart from the benchmark's): clonic
    seconds give 0.79-1.32 (10th-90th percentile), sustained contraction 0.07-0.44; 0.6 lies
    between. Stretches of N windows are judged pooled, against ``rhythm_contrast`` scaled by
    N ** -0.42 (see ``detect.detector.POOL_EXPONENT``), and a mixed spasm has both components
    (Thomas et al. 2014): an episode is mixed when, split in two where its stretches differ
    most (each at least ``mixed_share`` of its windows), one beats clearly (1.3 times its
    threshold, ``detect.detector.MIXED_STRICT``) and the other does not beat. An episode of
    one window (0.5-1 s) cannot be split: it is mixed when its window beats at half its
    threshold or more but not at the threshold (``detect.detector.MIXED_PART``: clonus over
    part of the window). Full suite: type agreement 89.9 -> 90.7 %; the study set 88.3 ->
    90.2 %; seeds 78001-78012 (283 episodes) 85.5 -> 87.6 %.
    Accelerometer: clonus moves the limb at one rate, so each window's movement spectrum
    (the three band-passed axes, Hann-windowed, summed; 3-12 Hz) is kept and stretches of
    windows are judged pooled: a stretch is clonic when its spectrum peaks in 3-8 Hz (up to
    8.5 Hz: half the window's 1 Hz resolution) and the peak (within 1.5 Hz) holds more than
    ``clonic_peak_acc`` of the power. Tremor peaks at 8-12 Hz, a tonic spasm's broadband
    movement has no peak: for 3-12 Hz white noise the peak of one 1 s window holds at most
    0.60-0.62 in 95 % (25, 50 and 100 Hz), a 3-8 Hz rhythm at 5 dB 0.53-0.80 (5th
    percentile; 0.6 lies between, and pooled windows separate further). Mixed as for sEMG
    (split where the stretches differ most, each at least ``mixed_share``; one side clonic
    by 1.3 times the threshold, the other not), else clonic when the whole is, else tonic.
    On 18 simulated ankle recordings apart from the benchmark's (seeds 88001-88006 at 25, 50
    and 100 Hz, 374 episodes): 87.4 % agreement with the truth (threshold 0.5: 89.0 %, 0.7:
    84.5 %; ``mixed_share`` 0.15-0.3: 87.2-87.4 %), against 82.1 % for the share of power in
    3-8 Hz, which kept half of a 3 or 8 Hz clonus and read it tonic (3-8 Hz shaking, 48
    bursts at 25-100 Hz: clonic 48 against 24). Most errors left are spasms of at most
    1.3 s: one window cannot show both parts of a mixed one. Broadband movement bursts (63
    of white 3-12 Hz, 0.8-15 s): all tonic (that rule: 10 mixed). Movement whose spectrum
    falls with frequency peaks at the band's low end: of 36 such bursts 25 read tonic, 9
    clonic (0.5: 18 tonic; that rule: 15).
    """

    band_low_hz: float = 3.0
    band_high_hz: float = 8.0
    rhythm_contrast: float = Field(default=0.6, gt=0)
    clonic_peak_acc: float = Field(default=0.6, gt=0, lt=1)
    window_s: float = Field(default=1.0, gt=0)
    mixed_share: float = Field(default=0.25, gt=0, le=0.5)


class RhythmConfig(_Frozen):
    """Finding clonus too weak for the thresholds, by its rhythm.

    Clonus at a low signal-to-noise ratio raises the envelope by only 1-3 dB on average: its
    bursts fill half of each period, so the envelope stays under the on threshold, and a long
    clonus would go unseen. Its rhythm gives it away: sEMG frame amplitudes beating at 3-8 Hz
    (the test of ``TypeConfig``, over ``window_s``). While idle, every ``step_s`` (at frame
    numbers that are multiples of it, so chunking cannot move it), an episode starts when

    - the window's mean frame power is at least ``gate_db`` over the resting mean frame power
      (followed while idle, like the resting level, over ``BaselineConfig.rise_tau_s``): a
      rhythm in the noise floor alone is not a contraction (1 dB is 26 % more power; over
      2 s, resting sEMG stays within 0.5 dB of its mean at 1-2 kHz and within 1.4 dB at
      200-250 Hz, max over 20 min: at low rates the rhythm test carries the weight); and
    - the rhythm contrast over the last ``window_s`` exceeds ``contrast``. Resting sEMG (white
      noise band-passed at 200 Hz-2 kHz, 20 min at each rate) gives 0.21-0.22 as its median
      and 0.54-0.67 as its 99.9th percentile over 2 s windows; 0.7 lies above all of them
      (and band-passed white noise, 8 channels x 30 min at each of 200, 250, 1000 and
      2000 Hz, starts no episode).

    No rhythm window may reach back into an earlier episode. Its onset is where the envelope
    stepped up: the least-squares change point of a shift in mean over the envelope (dB) of
    the last two windows (the split that maximises ``|mean after - mean before|`` weighted by
    ``sqrt(n_before * n_after)``, the maximum-likelihood estimate of one step in Gaussian
    noise; it needs no drift or level to be set). It then lasts while the envelope stays
    ``gate_db`` over rest (or over the usual off threshold), with the usual merge gap,
    counted from its onset: a window that beats on a short clonus already over (one the
    envelope did not confirm; over when the last merge gap's mean frame power is under
    ``gate_db`` over rest's) takes it only up to its end (where the envelope stepped down,
    the same change point, then fell to ``gate_db`` over rest), and not at all if that
    leaves it shorter than the minimum duration. (Taken up to the test's frame, such a
    clonus ran on into the rest after it, whose envelope crosses 1 dB now and then, and half
    of the time at 200-250 Hz: a 0.6 s clonus was logged as 3.8 s of tonic spasm. Full
    suite: type agreement 88.1 -> 89.7 %, the offset error's 95th percentile on back-no-site
    1.4 -> 0.24 s and on armband-200Hz 1.05 -> 0.50 s; limb-20dB 0.984 -> 0.967, its 0.6 s
    clonus now 0.45 s long, so dropped.)

    An episode that falls under its off threshold is held, not ended: if the same test passes
    on the frames since (``window_s`` of them, within twice that), clonus has followed a
    tonic start and the episode goes on; otherwise its end is reported then, with the offset
    it had. Every episode is held, and the test on the frames that follow decides. (Holding
    only those whose last merge gap stayed ``gate_db`` over rest split spasms at 3-5 dB whose
    clonic part lies about 1 dB over rest, and each split counted as a false episode: full
    suite false episodes up to 7.8 an hour -> 0, lowest F1 0.840 -> 0.857; study set 15-17 an
    hour in two cases -> 0, mean F1 0.954 -> 0.957; 24 simulated recordings apart from both
    (seeds 61001-61024; calf, thigh, lower back, neck, chest, forearm and shin at 200 Hz-2
    kHz; 3, 5 and 8 dB) mean F1 0.852 -> 0.865, false episodes in 5 of them -> 2. The cost:
    an episode's end is reported up to ``2 * window_s`` after it rather than after the merge
    gap, and two clonic spasms under 4 s apart at 3 dB can be joined, once in the study
    set.) A new contraction meanwhile ends it at once, unless the last ``window_s`` of frames
    reach back to the hold (a merge gap after the held episode's end: the dip and the new
    rise) and beat like clonus: then clonus weakened for a moment and came back, and the
    episode goes on (a 10 s clonus on the lower back, split in two at such a dip, is one
    again). Rest and then a new clonus is a new spasm (the quick suite's limb-10dB: a tonic
    spasm and a clonus 3.4 s after it, over rest, were one episode). Nor is a rhythm
    start's onset sought back across rest: only after the last merge gap before the window
    whose frames' mean power is no more than rest's own mean (the full suite's neck-10dB: a
    clonus was back-dated across 2.3 s of rest to a short spasm before it, one episode of
    12 s).
    Accelerometer clonus shows in its band power directly, so this is sEMG only.
    """

    enabled: bool = True
    window_s: float = Field(default=2.0, gt=0)
    step_s: float = Field(default=0.1, gt=0)
    contrast: float = Field(default=0.7, gt=0)
    gate_db: float = Field(default=1.0, ge=0)


class QualityConfig(_Frozen):
    """Unusable signal.

    A real signal carries noise, so a channel whose raw value stays exactly the same for
    ``flat_run_s`` is not measuring anything there (a detached electrode, a stuck device, an
    amplifier saturated at its full scale; peaks clipped for a sample or two inside a strong
    contraction leave it usable: the contraction is there, its amplitude a lower bound);
    nothing is detected in such stretches and the resting level holds. Flat for
    ``detached_after_s`` counts as an electrode that looks detached; when its signal comes
    back, the rest is learnt again (settle, warm-up, the start check) as at a stream's start:
    an electrode put back sits elsewhere or makes another contact, and its rest 10 dB higher
    than before was one spasm to the end of the stream. So is every channel after
    ``relearn_after_lost_s`` of lost samples: the link was down long enough for the sensor
    to be taken off and put back (for a shower, say). A link that drops and reconnects (a
    few seconds) keeps the rest it had, so a long spasm going on across it is still judged
    against that rest.

    Every sensor of a stream of several holding its value at once is not their electrodes:
    they cannot all lose contact at the same sample and come back together. It is the
    delivery that stalled, a logger writing its last row again until the next arrived (a
    Myo armband's recording holds all eight channels for 0.09-0.17 s twelve times in 61 s,
    four of them during gestures). Such a stall, up to the length of a gap that is filled
    (``fill_short_gaps``), is bridged as that gap is: the filters go on, its frames are
    unusable, nothing starts or ends in them and an episode going on across it goes on.
    Read as flat, each stall cut the contraction it fell in and the second of settling
    after it lost the rest (the armband's gesture 8 was two episodes, with 1.2 s unseen).
    Longer, it is flat as any other run. One sensor alone holding is flat as before.
    """

    flat_run_s: float = Field(default=0.1, gt=0)
    detached_after_s: float = Field(default=1.0, gt=0)
    relearn_after_lost_s: float | None = Field(default=10.0, gt=0)
    #: A device's counts are quantised, and a quiet channel on a coarse one (a 10-bit
    #: ADC behind a low-gain front end, resting at 0.2 of a count) holds its value for most
    #: of each second. Its envelope then swung between the power floor (1e-20) and single
    #: count steps, and its runs of equal values were read as a missing signal: 0.1 s flat
    #: at a time, a second of settling after each, so the detector never learnt a rest and
    #: found nothing, silently. With the floor, each channel's envelope is floored at its
    #: quantisation noise (the step, the smallest change seen between consecutive samples,
    #: squared over 12, through the filters; an accelerometer's three axes share one step
    #: and add their noise), and equal values for ``flat_run_s`` (and at least
    #: ``detect.pipeline.MIN_FLAT_SAMPLES``) count as flat only on a channel that has not
    #: spent most of its last frames (over the resting level's fall time constant, 3 s)
    #: within 3 dB of that floor: one that rests at its device's resolution holds its value
    #: as a matter of course.
    #: ``detached_after_s`` of equal values is flat on any channel (such a quiet one is then
    #: reported detached after twice that). A signal that is not quantised has a step too
    #: small to matter.
    quantisation_floor: bool = True
    #: A gap shorter than the merge gap (at most ``detect.filters.FILL_MAX_S``, 0.5 s: lost
    #: notifications, a brief stall of the link) is filled so the filters go on, instead of
    #: restarting them (and waiting ``settle_s`` for them to settle). A pause that short
    #: would be merged whatever the signal did in it, so the gap cannot hide an episode's
    #: end. Its frames still count as lost: nothing starts or ends in them, and an episode
    #: going on across it goes on. Longer gaps end an episode as interrupted.
    fill_short_gaps: bool = True


class DetectorConfig(_Frozen):
    """The whole detection pipeline's settings."""

    preset: str = "default"
    signal: Literal["emg", "acc"] = "emg"
    #: What an sEMG channel carries: the raw signal (``"raw"``), or its envelope, rectified
    #: and smoothed by the device (``"envelope"``; see :func:`preset`).
    input: Literal["raw", "envelope"] = "raw"
    bandpass: BandPassConfig = BandPassConfig()
    notch: NotchConfig = NotchConfig()
    ecg: EcgConfig = EcgConfig()
    acc: AccConfig = AccConfig()
    envelope: EnvelopeConfig = EnvelopeConfig()
    baseline: BaselineConfig = BaselineConfig()
    threshold: ThresholdConfig = ThresholdConfig()
    episode: EpisodeConfig = EpisodeConfig()
    type: TypeConfig = TypeConfig()
    rhythm: RhythmConfig = RhythmConfig()
    quality: QualityConfig = QualityConfig()
    #: After lost samples or a flat stretch the filters restart; nothing is detected until they
    #: have settled. The slowest parts are the mains notches (a time constant of 64 ms at
    #: 50 Hz, see ``NotchConfig``) and the envelope window (0.3 s): 1 s leaves both settled.
    settle_s: float = Field(default=1.0, ge=0)


def preset(name: str, signal: Literal["emg", "acc"] = "emg") -> DetectorConfig:
    """A named detector configuration.

    ``default``
        spasm detection as documented in ``docs/architecture.md``.
    ``aasm``
        the AASM/WASM rules for scoring limb movements (Zucconi et al. 2006, updated by the
        IRLSSG in 2016): onset at 8 uV over rest, offset when within 2 uV of rest for 0.5 s,
        at least 0.5 s. The rules' upper limit (10 s; 45 s for large muscle groups) decides
        which movements count in a periodic series, so it belongs to scoring series of
        movements, not to finding them: episodes are reported whatever their length.
        The microvolts are read in each channel's units (a recording in mV or V is scaled);
        a channel in device counts is refused with an error, since no rule in uV can be
        applied to it.
    ``envelope``
        for devices that send the sEMG's envelope, rectified and smoothed, not the signal:
        a MyoWare sensor's ENV output, the Otto Bock electrodes of NinaPro's first database.
        The envelope's value is the amplitude itself, so its square is the power the episode
        logic reads, with no band-pass, notch or ECG suppression (an envelope keeps nothing
        of 20-450 Hz but the device's ripple and its rounding). Eight simulated forearm
        recordings (seeds 5201-5208) turned into a device's envelope (rectified, a 5 Hz
        low-pass) and sent as counts resting at 5-50 (100 Hz-1 kHz), or as 100 Hz values:
        through the band-pass, mean F1 0.39-1.00 at 20 dB and 0.10-0.82 at 10 dB; read as an
        envelope, 1.000 at 20 dB and 0.72-0.80 at 10 dB, every miss a clonus or a spasm of
        under 4 s that the device's smoothing flattened. Runs of equal values are not a
        missing signal there: a smooth envelope in whole counts holds its value for tenths
        of a second at rest (with the flat rule, 100 Hz counts resting at 20 scored 0.31).
    """
    if name == "default":
        return DetectorConfig(signal=signal)
    if name == "aasm":
        if signal != "emg":
            raise ValueError("the aasm preset scores sEMG only")
        return DetectorConfig(
            preset="aasm",
            signal="emg",
            threshold=ThresholdConfig(
                on_db=0.0, off_db=0.0, on_above=8.0, off_above=2.0, spread=False, release_db=None
            ),
            episode=EpisodeConfig(min_duration_s=0.5, merge_gap_s=0.5),
            rhythm=RhythmConfig(enabled=False),
        )
    if name == "envelope":
        if signal != "emg":
            raise ValueError("the envelope preset reads sEMG envelopes only")
        return DetectorConfig(
            preset="envelope",
            signal="emg",
            input="envelope",
            notch=NotchConfig(mains_hz="off"),
            ecg=EcgConfig(mode="off"),
        )
    raise ValueError(f"unknown detector preset {name!r} (choose default, aasm or envelope)")
