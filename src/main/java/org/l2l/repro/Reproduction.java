package org.l2l.repro;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Runs the steps of the chosen experiments, then writes the report. */
public final class Reproduction {

  private Reproduction() {}

  /**
   * Runs every unfinished step of {@code chosen} and writes the report; returns README.md's path,
   * or null if the run stopped before every step finished.
   */
  public static Path run(Plan plan, List<Plan.Experiment> chosen, Runner runner, Path out,
      List<String> commandLine, Integer stopAfterSteps) throws IOException {
    if (runner.run(Plan.stepsOf(chosen), stopAfterSteps) != Runner.Outcome.DONE) {
      return null;
    }
    return new Report(out, plan, chosen, runner).write(commandLine);
  }

  /** A JSON file; unreadable is a one-line error. */
  public static JsonObject readJson(Path file) {
    return Runner.readJson(file);
  }
}
