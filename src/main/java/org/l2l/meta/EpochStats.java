package org.l2l.meta;

/**
 * What one meta-training epoch (one problem instance, numSteps / unrollLength meta-steps) gave.
 *
 * @param epoch 1-based epoch number
 * @param metaLoss mean over the epoch's unrolls of the unroll's meta-loss
 * @param finalLoss the optimizee loss after the last step
 * @param metaGradientNorm mean over the epoch's unrolls of the meta-gradient's global norm
 * @param validationLoss mean final loss on the validation instances, NaN if not evaluated
 * @param skippedSteps meta-steps of this epoch skipped for a non-finite meta-loss or gradient
 */
public record EpochStats(int epoch, double metaLoss, double finalLoss, double metaGradientNorm,
    double validationLoss, int skippedSteps) {}
