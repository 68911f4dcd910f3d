//! Learning-rate schedules, stepped once per epoch, with the values of
//! PyTorch's schedulers (`torch.optim.lr_scheduler`) for the same settings,
//! bit for bit in f64 (`tests/optim_reference.rs`).
//!
//! A schedule maps the epoch and the learning rate of the previous epoch to
//! the next one, as PyTorch's `scheduler.step()` does after each epoch; the
//! base rate `η₀` is the optimizer's learning rate when training starts.
//! With `e = 0, 1, 2, …` counting the epochs before the one being set:
//!
//! | schedule | `ηₑ` | PyTorch |
//! |---|---|---|
//! | [`Constant`] | `η₀` | none |
//! | [`StepDecay`] | `η₀ γ^⌊e / s⌋` | `StepLR(step_size=s, gamma=γ)` |
//! | [`Exponential`] | `η₀ γᵉ` | `ExponentialLR(gamma=γ)` |
//! | [`CosineAnnealing`] | `η_min + ½ (η₀ - η_min)(1 + cos(π e / T))` | `CosineAnnealingLR(T_max=T, eta_min)` |
//! | [`LinearWarmup`] | `η₀ (a + (b - a) min(e, n) / n)` | `LinearLR(start_factor=a, end_factor=b, total_iters=n)` |
//! | [`Lambda`] | `η₀ f(e)` for a closure `f` | `LambdaLR(lr_lambda=f)` |
//!
//! The formulas are the closed forms; the values are computed as PyTorch
//! computes them, from the previous epoch's rate (`ηₑ = ηₑ₋₁ γ` for
//! [`Exponential`], and so on), so they agree with PyTorch's to the last bit
//! rather than to rounding, and a rate changed between epochs (by a
//! callback) carries on from the changed value, as in PyTorch. Each value is
//! an `f64`, handed to the optimizer in its own precision.
//!
//! ```
//! use stackgrad::schedule::{CosineAnnealing, Schedule};
//! let mut cosine = CosineAnnealing::new(4, 0.0)?;
//! let rates: Vec<f64> = cosine.rates(0.1).take(5).collect();
//! assert_eq!(rates[0], 0.1);
//! assert!((rates[2] - 0.05).abs() < 1e-17); // half-way: half the rate
//! assert!(rates[4].abs() < 1e-17);          // T epochs on: η_min
//! # Ok::<(), stackgrad::Error>(())
//! ```

use crate::Error;
use crate::optim::require;
use num_traits::Float;

/// A learning-rate schedule: the learning rate of each epoch.
///
/// [`Training`](crate::train::Training) calls `lr(0, η₀, η₀)` before the
/// first epoch, then `lr(e, η₀, η)` after epoch `e` (counted from 1) with
/// the rate `η` the optimizer has then, and sets the optimizer's rate to the
/// result, which must be finite and at least 0.
///
/// A schedule of one's own implements `lr`:
///
/// ```
/// use stackgrad::schedule::Schedule;
/// /// Halves the rate every epoch until it reaches a floor.
/// struct HalveTo(f64);
/// impl Schedule for HalveTo {
///     fn lr(&mut self, epoch: usize, _base: f64, current: f64) -> f64 {
///         if epoch == 0 { current } else { (current / 2.0).max(self.0) }
///     }
/// }
/// let rates: Vec<f64> = HalveTo(0.02).rates(0.1).take(4).collect();
/// assert_eq!(rates, [0.1, 0.05, 0.025, 0.02]);
/// ```
pub trait Schedule {
    /// The learning rate of epoch `epoch + 1`, given the base rate `base`
    /// and the rate `current` of epoch `epoch` (`epoch = 0`: the rate of
    /// the first epoch, `current = base`). PyTorch's `get_lr` with
    /// `last_epoch = epoch`.
    fn lr(&mut self, epoch: usize, base: f64, current: f64) -> f64;

    /// Checks the settings (default: nothing to check).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] naming the schedule and the setting.
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }

    /// The rates of epochs 1, 2, … from base rate `base`, each computed from
    /// the one before (what training sets when no callback changes the rate).
    fn rates(&mut self, base: f64) -> Rates<'_, Self>
    where
        Self: Sized,
    {
        Rates {
            schedule: self,
            base,
            current: base,
            epoch: 0,
        }
    }
}

/// The iterator of [`Schedule::rates`].
#[derive(Debug)]
pub struct Rates<'a, S> {
    schedule: &'a mut S,
    base: f64,
    current: f64,
    epoch: usize,
}

impl<S: Schedule> Iterator for Rates<'_, S> {
    type Item = f64;
    fn next(&mut self) -> Option<f64> {
        self.current = self.schedule.lr(self.epoch, self.base, self.current);
        self.epoch += 1;
        Some(self.current)
    }
}

/// No schedule: the rate stays what it is (the optimizer's, or what a
/// callback sets).
///
/// ```
/// use stackgrad::schedule::{Constant, Schedule};
/// assert!(Constant.rates(0.1).take(3).all(|r| r == 0.1));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Constant;

impl Schedule for Constant {
    fn lr(&mut self, _epoch: usize, _base: f64, current: f64) -> f64 {
        current
    }
}

/// The rate times `γ` every `s` epochs: `ηₑ = η₀ γ^⌊e / s⌋` (PyTorch's
/// `StepLR`).
///
/// ```
/// use stackgrad::schedule::{Schedule, StepDecay};
/// let rates: Vec<f64> = StepDecay::new(2, 0.5)?.rates(1.0).take(5).collect();
/// assert_eq!(rates, [1.0, 1.0, 0.5, 0.5, 0.25]);
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepDecay {
    step_size: usize,
    gamma: f64,
}

impl StepDecay {
    /// Multiplies the rate by `gamma` every `step_size` epochs.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a `step_size` of 0 or a `gamma` that is
    /// negative or not finite.
    pub fn new(step_size: usize, gamma: f64) -> Result<Self, Error> {
        let s = Self { step_size, gamma };
        s.check()?;
        Ok(s)
    }
}

impl Schedule for StepDecay {
    fn lr(&mut self, epoch: usize, _base: f64, current: f64) -> f64 {
        if epoch == 0 || !epoch.is_multiple_of(self.step_size.max(1)) {
            current
        } else {
            current * self.gamma
        }
    }
    fn check(&self) -> Result<(), Error> {
        require(
            self.step_size > 0,
            "StepDecay",
            "step_size",
            self.step_size as f64,
            "at least 1",
        )?;
        check_gamma("StepDecay", self.gamma)
    }
}

/// `gamma` is finite and at least 0.
fn check_gamma(what: &'static str, gamma: f64) -> Result<(), Error> {
    require(
        gamma.is_finite() && gamma >= 0.0,
        what,
        "gamma",
        gamma,
        "finite and at least 0",
    )
}

/// The rate times `γ` every epoch: `ηₑ = η₀ γᵉ` (PyTorch's `ExponentialLR`).
///
/// ```
/// use stackgrad::schedule::{Exponential, Schedule};
/// let rates: Vec<f64> = Exponential::new(0.5)?.rates(1.0).take(4).collect();
/// assert_eq!(rates, [1.0, 0.5, 0.25, 0.125]);
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exponential {
    gamma: f64,
}

impl Exponential {
    /// Multiplies the rate by `gamma` every epoch.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a `gamma` that is negative or not finite.
    pub fn new(gamma: f64) -> Result<Self, Error> {
        check_gamma("Exponential", gamma)?;
        Ok(Self { gamma })
    }
}

impl Schedule for Exponential {
    fn lr(&mut self, epoch: usize, _base: f64, current: f64) -> f64 {
        if epoch == 0 {
            current
        } else {
            current * self.gamma
        }
    }
    fn check(&self) -> Result<(), Error> {
        check_gamma("Exponential", self.gamma)
    }
}

/// Cosine annealing from `η₀` down to `η_min` over `T` epochs (Loshchilov
/// and Hutter, 2017, without restarts; PyTorch's `CosineAnnealingLR`):
/// `ηₑ = η_min + ½ (η₀ - η_min)(1 + cos(π e / T))`. Past `T` epochs the rate
/// climbs back along the same cosine (period `2T`), as PyTorch's does.
///
/// Computed as PyTorch does, from the previous rate:
/// `ηₑ = (1 + cos(π e / T)) / (1 + cos(π (e - 1) / T)) (ηₑ₋₁ - η_min) + η_min`,
/// and at the bottom of each period (`(e - 1 - T) mod 2T = 0`),
/// `ηₑ = ηₑ₋₁ + (η₀ - η_min)(1 - cos(π / T)) / 2`.
///
/// ```
/// use stackgrad::schedule::{CosineAnnealing, Schedule};
/// let rates: Vec<f64> = CosineAnnealing::new(2, 0.0)?.rates(1.0).take(5).collect();
/// assert_eq!(rates[0], 1.0);
/// assert!((rates[1] - 0.5).abs() < 1e-15 && rates[2].abs() < 1e-15);
/// assert!((rates[3] - 0.5).abs() < 1e-15 && (rates[4] - 1.0).abs() < 1e-15);
/// let err = CosineAnnealing::new(0, 0.0).unwrap_err();
/// assert_eq!(err.to_string(), "CosineAnnealing: t_max = 0 must be at least 1 epoch");
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineAnnealing {
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealing {
    /// Anneals from the optimizer's rate to `eta_min` over `t_max` epochs.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for `t_max = 0` or an `eta_min` that is
    /// negative or not finite.
    pub fn new(t_max: usize, eta_min: f64) -> Result<Self, Error> {
        let s = Self { t_max, eta_min };
        s.check()?;
        Ok(s)
    }
}

impl Schedule for CosineAnnealing {
    fn lr(&mut self, epoch: usize, base: f64, current: f64) -> f64 {
        let pi = core::f64::consts::PI;
        let (t, e, eta_min) = (self.t_max.max(1), epoch, self.eta_min);
        if e == 0 {
            current
        } else if (e - 1 + t) % (2 * t) == 0 {
            // (e - 1 - T) mod 2T = 0, kept in unsigned arithmetic.
            current + (base - eta_min) * (1.0 - Float::cos(pi / t as f64)) / 2.0
        } else {
            (1.0 + Float::cos(pi * e as f64 / t as f64))
                / (1.0 + Float::cos(pi * (e - 1) as f64 / t as f64))
                * (current - eta_min)
                + eta_min
        }
    }
    fn check(&self) -> Result<(), Error> {
        require(
            self.t_max > 0,
            "CosineAnnealing",
            "t_max",
            self.t_max as f64,
            "at least 1 epoch",
        )?;
        require(
            self.eta_min.is_finite() && self.eta_min >= 0.0,
            "CosineAnnealing",
            "eta_min",
            self.eta_min,
            "finite and at least 0",
        )
    }
}

/// Linear warm-up: the rate times a factor that goes linearly from `a` to
/// `b` over `n` epochs, then stays at `b` (PyTorch's `LinearLR`):
/// `ηₑ = η₀ (a + (b - a) min(e, n) / n)`.
///
/// Computed as PyTorch does, from the previous rate:
/// `η₀' = η₀ a`, then `ηₑ = ηₑ₋₁ (1 + (b - a) / (n a + (e - 1)(b - a)))` for
/// `e ≤ n`.
///
/// ```
/// use stackgrad::schedule::{LinearWarmup, Schedule};
/// let rates: Vec<f64> = LinearWarmup::new(0.25, 1.0, 3)?.rates(1.0).take(5).collect();
/// assert_eq!(rates, [0.25, 0.5, 0.75, 1.0, 1.0]);
/// # Ok::<(), stackgrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearWarmup {
    start_factor: f64,
    end_factor: f64,
    total: usize,
}

impl LinearWarmup {
    /// From `start_factor` times the rate to `end_factor` times it, over
    /// `total` epochs.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] unless `0 < start_factor ≤ 1`,
    /// `0 ≤ end_factor ≤ 1` and `total ≥ 1`.
    pub fn new(start_factor: f64, end_factor: f64, total: usize) -> Result<Self, Error> {
        let s = Self {
            start_factor,
            end_factor,
            total,
        };
        s.check()?;
        Ok(s)
    }
}

impl Schedule for LinearWarmup {
    fn lr(&mut self, epoch: usize, _base: f64, current: f64) -> f64 {
        let (a, b, n) = (self.start_factor, self.end_factor, self.total);
        if epoch == 0 {
            current * a
        } else if epoch > n {
            current
        } else {
            current * (1.0 + (b - a) / (n as f64 * a + (epoch - 1) as f64 * (b - a)))
        }
    }
    fn check(&self) -> Result<(), Error> {
        let (a, b) = (self.start_factor, self.end_factor);
        require(
            a > 0.0 && a <= 1.0,
            "LinearWarmup",
            "start_factor",
            a,
            "in (0, 1]",
        )?;
        require(
            (0.0..=1.0).contains(&b),
            "LinearWarmup",
            "end_factor",
            b,
            "in [0, 1]",
        )?;
        require(
            self.total > 0,
            "LinearWarmup",
            "total",
            self.total as f64,
            "at least 1 epoch",
        )
    }
}

/// A schedule from a closure: `ηₑ = η₀ f(e)` (PyTorch's `LambdaLR`).
///
/// ```
/// use stackgrad::schedule::{Lambda, Schedule};
/// // Warm up over 3 epochs, then decay as 1/√e.
/// let mut s = Lambda(|e: usize| if e < 3 { (e + 1) as f64 / 3.0 } else { 1.0 / (e as f64 - 1.0).sqrt() });
/// let rates: Vec<f64> = s.rates(0.3).take(5).collect();
/// assert!((rates[0] - 0.1).abs() < 1e-16 && rates[2] == 0.3);
/// assert!((rates[4] - 0.3 / 3f64.sqrt()).abs() < 1e-16);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Lambda<F>(pub F);

impl<F: FnMut(usize) -> f64> Schedule for Lambda<F> {
    fn lr(&mut self, epoch: usize, base: f64, _current: f64) -> f64 {
        base * (self.0)(epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_name_the_setting() {
        let msg = |e: Error| e.to_string();
        assert_eq!(
            msg(StepDecay::new(0, 0.5).unwrap_err()),
            "StepDecay: step_size = 0 must be at least 1"
        );
        assert_eq!(
            msg(StepDecay::new(2, -0.5).unwrap_err()),
            "StepDecay: gamma = -0.5 must be finite and at least 0"
        );
        assert_eq!(
            msg(Exponential::new(f64::NAN).unwrap_err()),
            "Exponential: gamma = NaN must be finite and at least 0"
        );
        assert_eq!(
            msg(CosineAnnealing::new(5, -1.0).unwrap_err()),
            "CosineAnnealing: eta_min = -1 must be finite and at least 0"
        );
        assert_eq!(
            msg(LinearWarmup::new(0.0, 1.0, 5).unwrap_err()),
            "LinearWarmup: start_factor = 0 must be in (0, 1]"
        );
        assert_eq!(
            msg(LinearWarmup::new(0.5, 1.5, 5).unwrap_err()),
            "LinearWarmup: end_factor = 1.5 must be in [0, 1]"
        );
        assert_eq!(
            msg(LinearWarmup::new(0.5, 1.0, 0).unwrap_err()),
            "LinearWarmup: total = 0 must be at least 1 epoch"
        );
    }

    /// Each recurrence agrees with its closed form to rounding.
    #[test]
    fn recurrences_follow_their_closed_forms() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1e-3);
        let base = 0.3;
        let step: Vec<f64> = StepDecay::new(3, 0.7)
            .unwrap()
            .rates(base)
            .take(20)
            .collect();
        let exp: Vec<f64> = Exponential::new(0.9)
            .unwrap()
            .rates(base)
            .take(20)
            .collect();
        let cos: Vec<f64> = CosineAnnealing::new(7, 0.01)
            .unwrap()
            .rates(base)
            .take(30)
            .collect();
        let warm: Vec<f64> = LinearWarmup::new(0.2, 0.9, 6)
            .unwrap()
            .rates(base)
            .take(12)
            .collect();
        for (e, &r) in step.iter().enumerate() {
            assert!(close(r, base * 0.7f64.powi((e / 3) as i32)), "step {e}");
        }
        for (e, &r) in exp.iter().enumerate() {
            assert!(close(r, base * 0.9f64.powi(e as i32)), "exponential {e}");
        }
        for (e, &r) in cos.iter().enumerate() {
            let want =
                0.01 + (base - 0.01) * (1.0 + (core::f64::consts::PI * e as f64 / 7.0).cos()) / 2.0;
            assert!((r - want).abs() < 1e-14, "cosine {e}: {r} vs {want}");
        }
        for (e, &r) in warm.iter().enumerate() {
            let want = base * (0.2 + 0.7 * e.min(6) as f64 / 6.0);
            assert!(close(r, want), "warm-up {e}: {r} vs {want}");
        }
    }
}
