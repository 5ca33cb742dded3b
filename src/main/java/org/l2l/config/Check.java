package org.l2l.cli;

import java.util.List;

/** Validation of flag values at the edge, each failure a {@link UsageException}. */
final class Check {

  private Check() {}

  static int positive(String flag, int value) {
    if (value < 1) {
      throw UsageException.flag(flag, value, "must be a positive integer");
    }
    return value;
  }

  static int nonNegative(String flag, int value) {
    if (value < 0) {
      throw UsageException.flag(flag, value, "must be zero or a positive integer");
    }
    return value;
  }

  static double positive(String flag, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw UsageException.flag(flag, value, "must be a positive number");
    }
    return value;
  }

  static double nonNegative(String flag, double value) {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw UsageException.flag(flag, value, "must be zero or a positive number");
    }
    return value;
  }

  static String oneOf(String flag, String value, List<String> allowed) {
    if (!allowed.contains(value)) {
      throw UsageException.flag(flag, value, "unknown; allowed: " + String.join(", ", allowed));
    }
    return value;
  }

  /** A name used as a folder name: letters, digits, '_', '.', '-'. */
  static String simpleName(String flag, String value) {
    if (!value.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw UsageException.flag(flag, value,
          "must be a simple name (letters, digits, '_', '.', '-')");
    }
    return value;
  }

  static void unrollFits(int unrollLength, int numSteps) {
    if (unrollLength > numSteps) {
      throw UsageException.flag("--unroll-length", unrollLength,
          "longer than the horizon --num-steps " + numSteps + "; must be at most " + numSteps);
    }
    if (numSteps % unrollLength != 0) {
      throw UsageException.flag("--unroll-length", unrollLength,
          "must divide --num-steps " + numSteps + " (whole unrolls per instance)");
    }
  }
}
