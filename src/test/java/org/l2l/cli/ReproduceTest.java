package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.l2l.cli.CliTest.assertUsageError;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.repro.Plan;
import org.l2l.repro.Report;
import org.l2l.repro.Scale;

/**
 * {@code reproduce} at the hidden tiny scale, on the quadratic experiments (seconds each): a
 * stopped run resumes, reusing its finished steps, to the report of an uninterrupted run; the same
 * seeds give the same numbers; bad input is one line.
 */
class ReproduceTest {

  @TempDir Path tmp;

  private static final String ONLY = "quadratic,forget-bias";

  private static CliTest.Outcome reproduce(Path out, String... extra) {
    List<String> a = new java.util.ArrayList<>(List.of("reproduce", "--scale", "tiny", "--only",
        ONLY, "--out", out.toString()));
    a.addAll(List.of(extra));
    return CliTest.run(a.toArray(String[]::new));
  }

  /** The README without its wall-clock sections. */
  private static String withoutTiming(Path readme) throws IOException {
    return Files.readString(readme).replaceAll("(?s)" + Report.TIMING + ".*?"
        + Report.TIMING_END, "");
  }

  private static long count(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  @Test
  @Tag("slow")
  void aStoppedRunResumesToTheReportOfAnUninterruptedOne() throws IOException {
    int steps = Plan.stepsOf(new Plan(Scale.of("tiny")).select(List.of(ONLY.split(","))))
        .size();
    assertEquals(3 + 4 * 3, steps, "quadratic: train + 2 evals; per forget bias the same");

    Path whole = tmp.resolve("whole");
    CliTest.Outcome w = reproduce(whole);
    assertEquals(0, w.code(), w.err());
    assertTrue(w.err().contains("ETA"), "progress with an ETA on stderr");
    assertEquals(steps, count(whole.resolve("steps")));

    Path split = tmp.resolve("split");
    CliTest.Outcome first = reproduce(split, "--stop-after-steps", "4");
    assertEquals(0, first.code(), first.err());
    assertTrue(first.err().contains("run the same command again"), first.err());
    assertFalse(Files.exists(split.resolve("README.md")), "no report before every step");
    assertEquals(4, count(split.resolve("steps")));
    byte[] finishedBefore = Files.readAllBytes(split.resolve(
        "steps/quadratic-eval-s7/instances.csv"));
    CliTest.Outcome second = reproduce(split);
    assertEquals(0, second.code(), second.err());
    assertTrue(second.err().contains("(4 reused)"), second.err());
    assertArrayEquals(finishedBefore, Files.readAllBytes(split.resolve(
        "steps/quadratic-eval-s7/instances.csv")), "a finished step is kept, not redone");

    // Same seeds, same numbers: the results and the report (outside wall-clock sections).
    assertArrayEquals(Files.readAllBytes(whole.resolve("results.csv")),
        Files.readAllBytes(split.resolve("results.csv")));
    assertEquals(withoutTiming(whole.resolve("README.md")),
        withoutTiming(split.resolve("README.md")));

    // The report: the opening table, a table row per optimizer, the figures.
    String readme = Files.readString(whole.resolve("README.md"));
    assertTrue(readme.contains("| Quadratics (Fig. 4, left): 10-dim, 10 steps | LSTM lowest"),
        readme);
    for (String name : List.of("l2l", "sgd", "nag", "rmsprop", "adam")) {
      assertTrue(readme.contains("\n| " + name + " | "), name);
    }
    assertTrue(readme.contains("| forget-quadratic-5 | 5.0 | 0.9933 |"), readme);
    assertTrue(readme.matches("(?s).*\\| forget-quadratic-0 \\| 0\\.0 \\| 0\\.5000 \\|"
        + "( 0\\.\\d{4} \\|){4}\n.*"), "at rest and in use, both layers");
    assertTrue(readme.contains("./l2l train --problem quadratic --epochs 3 --seed 1"), readme);
    for (String png : List.of("quadratic.png", "forget-bias-quadratic.png",
        "forget-gates.png")) {
      BufferedImage image = ImageIO.read(whole.resolve("figures").resolve(png).toFile());
      assertEquals(900, image.getWidth(), png);
      assertEquals(600, image.getHeight(), png);
    }
    // results.csv: per comparison, optimizer and step 0..10.
    long rows = Files.readAllLines(whole.resolve("results.csv")).size() - 1;
    assertEquals((5 + 4 + 4) * 11, rows, "quadratic 5 optimizers; forget-bias 4 baselines + 4");

    // A third run reuses everything and writes the same report.
    CliTest.Outcome again = reproduce(whole);
    assertEquals(0, again.code(), again.err());
    assertTrue(again.err().contains("(" + steps + " reused)"), again.err());
    assertArrayEquals(Files.readAllBytes(split.resolve("results.csv")),
        Files.readAllBytes(whole.resolve("results.csv")));
  }

  @Test
  @Tag("slow")
  void aMetaTrainingStoppedMidwayResumesFromItsCheckpoint() throws IOException {
    Plan.Step train = new Plan(Scale.of("tiny")).experiments().get(0).steps().get(0);
    assertEquals("quadratic-train", train.id());
    // What a Ctrl-C in the middle of that step leaves: its run folder under OUT/partial with a
    // checkpoint at epoch 1 of 3.
    Path out = tmp.resolve("mid");
    List<String> a = new java.util.ArrayList<>(List.of("train"));
    a.addAll(train.args());
    a.addAll(List.of("--checkpoint-dir", out.resolve("partial").toString(), "--run", train.id(),
        "--tensorboard-dir", out.resolve("tensorboard").toString(), "--stop-after", "1"));
    assertEquals(0, CliTest.run(a.toArray(String[]::new)).code());
    assertTrue(Files.readString(out.resolve("partial/quadratic-train/latest/state.json"))
        .contains("\"epoch\": 1"));
    CliTest.Outcome o = CliTest.run("reproduce", "--scale", "tiny", "--only", "quadratic",
        "--out", out.toString());
    assertEquals(0, o.code(), o.err());
    String record = Files.readString(out.resolve("steps/quadratic-train/step.json"));
    assertTrue(record.contains("\"--resume\""), record);
    Path whole = tmp.resolve("whole-q");
    assertEquals(0, CliTest.run("reproduce", "--scale", "tiny", "--only", "quadratic", "--out",
        whole.toString()).code());
    assertArrayEquals(Files.readAllBytes(whole.resolve("steps/quadratic-train/metrics.csv")),
        Files.readAllBytes(out.resolve("steps/quadratic-train/metrics.csv")));
    assertArrayEquals(Files.readAllBytes(whole.resolve("results.csv")),
        Files.readAllBytes(out.resolve("results.csv")));
    assertFalse(Files.exists(out.resolve("partial/quadratic-train")), "renamed into place");
  }

  @Test
  void badInputIsOneLine() throws IOException {
    Path out = tmp.resolve("bad");
    assertUsageError("--only fig4: no such experiment; allowed: quadratic, mnist, "
        + "generalisation, conv, break-even, meta-optimizer, forget-bias, horizon", "reproduce",
        "--only", "quadratic,fig4", "--out", out.toString());
    assertUsageError("--scale huge: unknown; allowed: quick, paper", "reproduce", "--scale",
        "huge", "--out", out.toString());
    assertFalse(Files.exists(out), "nothing written");
    Files.createDirectories(out);
    Files.writeString(out.resolve("reproduce.json"), "{\"scale\": \"paper\"}");
    assertUsageError("holds a reproduction at --scale paper; use another --out for --scale "
        + "quick", "reproduce", "--scale", "quick", "--out", out.toString());
  }

  @Test
  void theQuickPlanHasEveryExperimentAndAnEstimateUnderTwentyMinutes() {
    Plan plan = new Plan(Scale.of("quick"));
    assertEquals(Plan.NAMES, plan.experiments().stream().map(Plan.Experiment::name).toList());
    double seconds = Plan.stepsOf(plan.experiments()).stream()
        .mapToDouble(Plan.Step::estimate).sum();
    assertTrue(seconds < 20 * 60, "estimated " + seconds + " s");
    assertTrue(Plan.stepsOf(plan.experiments()).stream().noneMatch(s -> s.id().equals(
        "mnist-train")), "quick uses the shipped MNIST optimizers");
    assertTrue(Plan.stepsOf(new Plan(Scale.of("paper")).experiments()).stream()
        .anyMatch(s -> s.id().equals("mnist-train")), "paper meta-trains MNIST");
  }
}
