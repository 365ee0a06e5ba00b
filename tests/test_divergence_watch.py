"""The loss-spike warning: DivergenceWatch itself, and the training loop naming the step of a spike."""

import logging

import pytest

from albert_tf.training.divergence_watch import DivergenceWatch
from albert_tf.training.training_config import TrainingConfig
from albert_tf.training.training_loop import TrainingLoop
from tiny_runs import tiny_classifier_job


def warned_steps(losses, **settings):
    watch = DivergenceWatch(**settings)
    return [step for step, loss in enumerate(losses, 1) if watch.update(step, loss)]


def test_a_jump_above_the_multiple_of_the_running_mean_is_named_once_per_spike():
    losses = [6.0] * 60 + [6.5, 13.0, 14.0, 15.0, 6.1, 6.0, 12.5, 6.0]
    assert warned_steps(losses, factor=2.0, margin=1.0, min_steps=50) == [62, 67]
    message = DivergenceWatch(min_steps=1)
    message.update(1, 5.0)
    text = message.update(2, 11.0)
    assert text.startswith("step 2:") and "2.2x" in text and "5" in text


def test_noise_small_losses_warmup_and_non_finite_steps_are_not_spikes():
    # Falling fast at the start (the mean lags above the loss), then noise of +-40%.
    assert warned_steps([10.0 - 0.1 * i for i in range(60)] + [4.0, 5.6, 3.3, 5.5] * 20) == []
    # A fine-tuning loss near zero: 0.02 -> 0.3 is 15x, but less than `margin` nats above the mean.
    assert warned_steps([0.02] * 60 + [0.3, 0.02]) == []
    # Before min_steps nothing is judged; Inf/NaN is the loop's own stop, not a spike.
    assert warned_steps([6.0] * 10 + [50.0], min_steps=20) == []
    assert warned_steps([6.0] * 60 + [float("inf"), float("nan"), 6.0]) == []
    assert warned_steps([6.0] * 60 + [60.0], factor=0) == []  # off


def test_a_spike_leaves_the_running_mean_at_the_level_before_it():
    watch = DivergenceWatch(factor=2.0, margin=1.0, decay=0.5, min_steps=1)
    for step in range(1, 5):
        watch.update(step, 4.0)
    assert watch.update(5, 30.0)
    for step in range(6, 20):  # a run that stays diverged is reported once, against the old level
        assert watch.update(step, 30.0) is None
    assert watch.mean == pytest.approx(4.0)


@pytest.mark.parametrize("factor", [0.5, 1.0, -2.0])
def test_the_factor_must_be_off_or_above_one(factor):
    with pytest.raises(Exception, match="divergence_factor"):
        TrainingConfig(albert_config_file="c.json", output_dir="o", do_train=True, divergence_factor=factor).validate()


def test_the_training_loop_warns_with_the_step_and_the_last_checkpoint(test_data, tmp_path, caplog):
    task, config = tiny_classifier_job(test_data, tmp_path, num_train_steps=70, save_checkpoints_steps=30,
                                       log_steps=10)
    loop = TrainingLoop(task, config.validate())
    train_step = loop.trainer.train_step

    def spiking_train_step(iterator):  # the loss of step 64 alone is multiplied by 20 (the weights are unchanged)
        sums, finite = train_step(iterator)
        if int(loop.trainer.step.numpy()) == 64:
            sums = {**sums, "loss_sum": sums["loss_sum"] * 20}
        return sums, finite

    loop.trainer.train_step = spiking_train_step
    try:
        with caplog.at_level(logging.WARNING):
            loop.run()
    finally:
        loop.close()
    spikes = [r.getMessage() for r in caplog.records if "running mean" in r.getMessage()]
    assert len(spikes) == 1, spikes
    assert spikes[0].startswith("step 64:") and "ckpt-60" in spikes[0] and "--learning_rate" in spikes[0]
