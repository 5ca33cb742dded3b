package org.l2l.config;

import org.l2l.UserError;

import java.util.List;

/**
 * Validation of settings where they are built (records, flags), each failure a {@link UserError}
 * naming the flag, the value and what is allowed.
 */
public final class Check {

  private Check() {}

  public static int positive(String flag, int value) {
    if (value < 1) {
      throw UserError.flag(flag, value, "must be a positive integer");
    }
    return value;
  }

  public static int nonNegative(String flag, int value) {
    if (value < 0) {
      throw UserError.flag(flag, value, "must be zero or a positive integer");
    }
    return value;
  }

  public static double positive(String flag, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw UserError.flag(flag, value, "must be a positive number");
    }
    return value;
  }

  public static double nonNegative(String flag, double value) {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw UserError.flag(flag, value, "must be zero or a positive number");
    }
    return value;
  }

  public static String oneOf(String flag, String value, List<String> allowed) {
    if (!allowed.contains(value)) {
      throw UserError.flag(flag, value, "unknown; allowed: " + String.join(", ", allowed));
    }
    return value;
  }

  /** A name used as a folder name: letters, digits, '_', '.', '-'. */
  public static String simpleName(String flag, String value) {
    if (!value.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw UserError.flag(flag, value,
          "must be a simple name (letters, digits, '_', '.', '-')");
    }
    return value;
  }

  public static void unrollFits(int unrollLength, int numSteps) {
    if (unrollLength > numSteps) {
      throw UserError.flag("--unroll-length", unrollLength,
          "longer than the horizon --num-steps " + numSteps + "; must be at most " + numSteps);
    }
    if (numSteps % unrollLength != 0) {
      throw UserError.flag("--unroll-length", unrollLength,
          "must divide --num-steps " + numSteps + " (whole unrolls per instance)");
    }
  }
}
