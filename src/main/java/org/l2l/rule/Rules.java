package org.l2l.rule;

import java.util.List;

/** The hand-designed rules by name, with the paper's fixed hyperparameters (Torch7 defaults). */
public final class Rules {

  /** Names of the baselines, in the paper's order. */
  public static final List<String> BASELINES = List.of("sgd", "nag", "rmsprop", "adam");

  private Rules() {}

  /** The baseline called {@code name} with learning rate {@code lr}. */
  public static UpdateRule baseline(String name, double lr) {
    return switch (name) {
      case "sgd" -> new Sgd(lr);
      case "nag" -> new Nag(lr, Nag.MOMENTUM_DEFAULT);
      case "rmsprop" -> new RmsProp(lr, RmsProp.DECAY_DEFAULT, RmsProp.EPSILON_DEFAULT);
      case "adam" -> new Adam(lr, Adam.BETA1_DEFAULT, Adam.BETA2_DEFAULT, Adam.EPSILON_DEFAULT);
      default -> throw new IllegalArgumentException("unknown rule " + name);
    };
  }

  /** The learning-rate grid searched when tuning a baseline: 1, 2, 5 per decade, 1e-4..5. */
  public static double[] learningRateGrid() {
    double[] grid = new double[15];
    double[] mantissas = {1, 2, 5};
    for (int i = 0; i < grid.length; i++) {
      grid[i] = mantissas[i % 3] * Math.pow(10, -4 + i / 3);
    }
    return grid;
  }
}
