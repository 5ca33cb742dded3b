package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.io.AtomicFiles;

/** Checkpoints: resuming is bit-identical, kills lose nothing, bad checkpoints are refused. */
class ResumeTest {

  @TempDir Path tmp;

  private List<String> args(String run, int epochs, String... extra) {
    java.util.LinkedHashMap<String, String> flags = new java.util.LinkedHashMap<>();
    String[] defaults = {"--epochs", "" + epochs, "--num-steps", "20", "--unroll-length", "10",
        "--eval-every", "3", "--eval-instances", "2", "--checkpoint-every", "2",
        "--hidden-size", "6", "--seed", "3", "--run", run, "--checkpoint-dir",
        tmp.resolve("ck").toString(), "--tensorboard-dir", tmp.resolve("tb").toString()};
    for (int i = 0; i < defaults.length; i += 2) {
      flags.put(defaults[i], defaults[i + 1]);
    }
    List<String> a = new ArrayList<>(List.of("train"));
    List<String> switches = new ArrayList<>();
    for (int i = 0; i < extra.length; i++) {
      if (extra[i].equals("--force")) {
        switches.add(extra[i]);
      } else {
        flags.put(extra[i], extra[++i]);
      }
    }
    flags.forEach((k, v) -> {
      a.add(k);
      a.add(v);
    });
    a.addAll(switches);
    return a;
  }

  private static int run(List<String> args) {
    return CliTest.run(args.toArray(String[]::new)).code();
  }

  private void assertSameRun(Path a, Path b) throws IOException {
    assertArrayEquals(Files.readAllBytes(a.resolve("metrics.csv")),
        Files.readAllBytes(b.resolve("metrics.csv")));
    for (String f : List.of("latest/ckpt.data-00000-of-00001", "latest/optimizer.l2lw",
        "best/optimizer.l2lw")) {
      assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
    }
  }

  @Test
  @Tag("slow")
  void cleanStopThenResumeEqualsUninterruptedRun() throws IOException {
    assertEquals(0, run(args("whole", 9)));
    assertEquals(0, run(args("split", 9, "--stop-after", "4")));
    Path split = tmp.resolve("ck/split");
    assertEquals(4 + 1, Files.readAllLines(split.resolve("metrics.csv")).size());
    assertTrue(Files.readString(split.resolve("latest/state.json")).contains("\"epoch\": 4"));
    assertEquals(0, run(List.of("train", "--resume", split.toString(), "--tensorboard-dir",
        tmp.resolve("tb").toString())));
    assertSameRun(tmp.resolve("ck/whole"), split);
  }

  @Test
  void resumeCanExtendEpochsButNotChangeTheConfig() throws IOException {
    assertEquals(0, run(args("r", 4)));
    Path dir = tmp.resolve("ck/r");
    CliTest.Outcome done = CliTest.run("train", "--resume", dir.toString());
    assertEquals(2, done.code());
    assertTrue(done.err().contains("the run has finished (4 of 4 epochs)"), done.err());
    CliTest.Outcome changed = CliTest.run("train", "--resume", dir.toString(), "--hidden-size",
        "7", "--seed", "3", "--meta-learning-rate", "0.01");
    assertEquals(2, changed.code());
    assertTrue(changed.err().contains("lstm.hidden_size (run: 6, given: 7)"), changed.err());
    assertTrue(changed.err().contains("meta_learning_rate"), changed.err());
    assertFalse(changed.err().contains("seed"), "an unchanged flag is no difference");
    assertEquals(0, CliTest.run("train", "--resume", dir.toString(), "--epochs", "6",
        "--tensorboard-dir", tmp.resolve("tb").toString()).code());
    assertEquals(6 + 1, Files.readAllLines(dir.resolve("metrics.csv")).size());
  }

  @Test
  @Tag("slow")
  void badCheckpointsAreRefusedAndNothingIsOverwritten() throws IOException {
    assertEquals(0, run(args("base", 4, "--stop-after", "2")));
    assertEquals(0, run(args("poly", 2, "--problem", "polynomial")));
    assertEquals(0, run(args("wide", 2, "--hidden-size", "7")));
    Path base = tmp.resolve("ck/base");
    Path latest = base.resolve("latest");
    Path pristine = tmp.resolve("pristine");
    copyTree(latest, pristine);
    byte[] metrics = Files.readAllBytes(base.resolve("metrics.csv"));

    // Truncated data file.
    Path data = latest.resolve("ckpt.data-00000-of-00001");
    byte[] full = Files.readAllBytes(data);
    Files.write(data, java.util.Arrays.copyOf(full, full.length / 2));
    assertResumeFails(base, "cannot be restored");
    byte[] truncated = Files.readAllBytes(data);
    assertEquals(full.length / 2, truncated.length, "the bad checkpoint is left as it was");

    // Missing index.
    restore(pristine, latest);
    Files.delete(latest.resolve("ckpt.index"));
    assertResumeFails(base, "incomplete checkpoint: ckpt.index is missing");

    // Another problem's checkpoint.
    restore(tmp.resolve("ck/poly/latest"), latest);
    assertResumeFails(base, "incompatible checkpoint");
    assertResumeFails(base, "problem.name (checkpoint: \"polynomial\", run: \"quadratic\")");

    // Another LSTM size.
    restore(tmp.resolve("ck/wide/latest"), latest);
    assertResumeFails(base, "lstm.hidden_size (checkpoint: 7, run: 6)");

    assertArrayEquals(metrics, Files.readAllBytes(base.resolve("metrics.csv")));
    // And the genuine checkpoint still resumes.
    restore(pristine, latest);
    assertEquals(0, CliTest.run("train", "--resume", base.toString(), "--tensorboard-dir",
        tmp.resolve("tb").toString()).code());
  }

  private static void assertResumeFails(Path dir, String part) {
    CliTest.Outcome o = CliTest.run("train", "--resume", dir.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains(part), o.err());
    assertEquals(1, o.err().strip().lines().count(), o.err());
  }

  private static void restore(Path from, Path to) throws IOException {
    AtomicFiles.deleteRecursively(to);
    copyTree(from, to);
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /**
   * SIGKILL at random moments: every time, the checkpoint left behind loads and the run goes on;
   * the result equals an uninterrupted run.
   */
  @Test
  @Tag("slow")
  @Tag("child-jvm")
  void killedRunsResumeToTheSameResult() throws Exception {
    int epochs = 30;
    int wantedKills = 3;
    assertEquals(0, run(args("calm", epochs)));
    Path dir = tmp.resolve("ck/killed");
    Path state = dir.resolve("latest/state.json");
    SplittableRandom rng = new SplittableRandom(2024);
    int kills = 0;
    while (kills < wantedKills) {
      boolean fresh = !Files.isDirectory(dir.resolve("latest"));
      int from = fresh ? 0 : checkpointEpoch(state);
      // Kill this process once its checkpoints have passed a random epoch ahead, plus a random
      // few milliseconds: somewhere inside an epoch, a checkpoint write or a metrics row.
      int target = from + 2 + rng.nextInt(6);
      assertTrue(target < epochs, "the test's epochs leave room for the kills");
      Process p = start(fresh ? args("killed", epochs, "--force")
          : List.of("train", "--resume", dir.toString(), "--tensorboard-dir",
              tmp.resolve("tb").toString()));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (p.isAlive() && System.nanoTime() < deadline
          && (!Files.exists(state) || checkpointEpoch(state) < target)) {
        Thread.sleep(2);
      }
      Thread.sleep(rng.nextInt(30));
      assertTrue(p.isAlive(), "the run was still going when killed");
      p.destroyForcibly().waitFor();
      kills++;
    }
    Process last = start(List.of("train", "--resume", dir.toString(), "--tensorboard-dir",
        tmp.resolve("tb").toString()));
    assertTrue(last.waitFor(5, TimeUnit.MINUTES));
    String log = new String(last.getInputStream().readAllBytes());
    assertEquals(0, last.exitValue(), log);
    System.out.println("kill test: " + kills + " SIGKILLs, each followed by a resume");
    assertSameRun(tmp.resolve("ck/calm"), dir);
  }

  /** The epoch of the checkpoint in state.json (0 while it cannot be read). */
  private static int checkpointEpoch(Path state) {
    try {
      return com.google.gson.JsonParser.parseString(Files.readString(state)).getAsJsonObject()
          .get("epoch").getAsInt();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static Process start(List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
        "java").toString(), "-cp", System.getProperty("java.class.path"),
        "org.l2l.cli.Main"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    pb.redirectOutput(ProcessBuilder.Redirect.PIPE);
    return pb.start();
  }

  static {
    // Child JVMs inherit this JVM's class path (Surefire's manifest jar lists everything).
    assertTrue(System.getProperty("java.class.path").length() > 0);
    assertFalse(File.pathSeparator.isEmpty());
  }
}
