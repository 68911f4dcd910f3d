//! What [`Training::fit`](crate::train::Training::fit) shows while it
//! trains: nothing, one line per epoch (no dependency), or, with the
//! optional `progress` feature, a progress bar per epoch drawn by
//! [`indicatif`](https://docs.rs/indicatif).
//!
//! Both write to standard error, so that a program's own output stays
//! clean. A line looks like
//!
//! ```text
//! epoch  3/20  loss 0.1843  accuracy 0.9472  val loss 0.2011  val accuracy 0.9389  lr 1.000e-3  0.21 s
//! ```
//!
//! (the validation figures when `fit_with` has a validation set, the
//! accuracies when the targets are classes), and the bar shows the batches
//! done, the epoch's mean loss so far, the rate in batches per second and
//! the time left in the epoch.
//!
//! ```
//! use stackgrad::batch::Dataset;
//! use stackgrad::loss::SoftmaxCrossEntropy;
//! use stackgrad::nn::Dense;
//! use stackgrad::optim::Sgd;
//! use stackgrad::progress::Progress;
//! use stackgrad::train::Training;
//! let x = [[1.0f64, 0.0], [0.0, 1.0]];
//! let y = [0usize, 1];
//! let mut net = Dense::<f64, 2, 2>::zeros();
//! Training::new(SoftmaxCrossEntropy::mean(), Sgd::new(0.5))
//!     .epochs(3)
//!     .progress(Progress::Lines) // prints "epoch  1/3  loss 0.6931 ..."
//!     .fit(&mut net, Dataset::new(&x, &y)?, |_, _| {})?;
//! let line = Progress::Lines.line(&stackgrad::train::EpochStats::<f64>::default(), 3);
//! assert_eq!(line, "epoch 0/3  loss 0.0000  lr 0.000e0");
//! # Ok::<(), stackgrad::Error>(())
//! ```

use std::format;
use std::string::{String, ToString};
use std::time::Instant;

use crate::Scalar;
use crate::train::{BatchEnd, EpochStats};

/// What `fit` prints while it trains (set with
/// [`Training::progress`](crate::train::Training::progress)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (the default).
    #[default]
    Quiet,
    /// One line per epoch on standard error ([`Progress::line`]).
    Lines,
    /// A progress bar per epoch on standard error (batches done, loss so
    /// far, rate, time left), then the epoch's line. Needs the `progress`
    /// feature.
    #[cfg(feature = "progress")]
    Bar,
}

impl Progress {
    /// The line printed after `epoch` of `epochs` (without its time):
    /// epoch, mean loss, accuracy, validation loss and accuracy, rate.
    #[must_use]
    pub fn line<T: Scalar>(&self, e: &EpochStats<T>, epochs: usize) -> String {
        use core::fmt::Write as _;
        let width = epochs.to_string().len();
        let mut s = format!(
            "epoch {:>width$}/{epochs}  loss {:.4}",
            e.epoch,
            e.mean_loss().as_f64()
        );
        if let Some(a) = e.accuracy() {
            let _ = write!(s, "  accuracy {a:.4}");
        }
        if let Some(v) = e.validation {
            let _ = write!(s, "  val loss {:.4}", v.mean_loss().as_f64());
            if let Some(a) = v.accuracy() {
                let _ = write!(s, "  val accuracy {a:.4}");
            }
        }
        let _ = write!(s, "  lr {:.3e}", e.lr.as_f64());
        s
    }

    /// The display of one `fit` over `epochs` epochs.
    pub(crate) fn start(&self, epochs: usize) -> Display {
        Display {
            kind: *self,
            epochs,
            started: Instant::now(),
            #[cfg(feature = "progress")]
            bar: None,
        }
    }
}

/// The state of a [`Progress`] display during one `fit`.
pub(crate) struct Display {
    kind: Progress,
    epochs: usize,
    started: Instant,
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Display {
    /// After each batch: moves the bar.
    #[cfg_attr(not(feature = "progress"), allow(clippy::unused_self))]
    pub(crate) fn batch<T: Scalar>(&mut self, b: &BatchEnd<T>) {
        #[cfg(feature = "progress")]
        if self.kind == Progress::Bar {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(b.batches as u64);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "epoch {prefix} [{bar:30}] {pos}/{len} batches  {msg}  {per_sec}  {eta} left",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(format!("{}/{}", b.epoch, self.epochs));
                bar
            });
            bar.set_position(b.batch as u64);
            bar.set_message(format!("loss {:.4}", b.so_far.mean_loss().as_f64()));
        }
        let _ = b;
    }

    /// After each epoch (and its validation): the epoch's line.
    pub(crate) fn epoch<T: Scalar>(&mut self, e: &EpochStats<T>) {
        #[cfg(feature = "progress")]
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.kind != Progress::Quiet {
            let elapsed = self.started.elapsed().as_secs_f64();
            self.started = Instant::now();
            std::eprintln!("{}  {elapsed:.2} s", self.kind.line(e, self.epochs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Evaluation;

    #[test]
    fn a_line_names_every_figure_it_has() {
        let mut e = EpochStats::<f64> {
            epoch: 3,
            example_loss: 0.5,
            examples: 4,
            correct: Some(3),
            lr: 0.001,
            ..EpochStats::default()
        };
        assert_eq!(
            Progress::Lines.line(&e, 20),
            "epoch  3/20  loss 0.1250  accuracy 0.7500  lr 1.000e-3"
        );
        e.correct = None;
        e.validation = Some(Evaluation {
            example_loss: 1.0,
            correct: Some(1),
            examples: 2,
        });
        assert_eq!(
            Progress::Lines.line(&e, 5),
            "epoch 3/5  loss 0.1250  val loss 0.5000  val accuracy 0.5000  lr 1.000e-3"
        );
    }
}
