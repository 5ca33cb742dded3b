package org.l2l.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.dist.ChildJvm;
import org.l2l.dist.ClusterSpec;
import org.l2l.dist.Collectives;
import org.l2l.io.OptimizerFile;

/**
 * Distributed meta-training on loopback, every worker a child JVM: two workers with one
 * instance each repeat one process with --instances-per-step 2 (the issue's acceptance test 1),
 * and a lost worker stops the others with one line, the run then resuming from the chief's
 * checkpoint with the remaining worker.
 */
@Tag("child-jvm")
@Tag("slow")
class DistributedTrainingTest {

  /** The tolerance stated for the averaged meta-gradients: relative, per element. */
  static final double GRADIENT_TOLERANCE = 1e-6;

  @TempDir Path tmp;

  /** Quadratics, one epoch of 60 steps in unrolls of 20: 3 meta-steps. */
  private List<String> settings(String run) {
    return List.of("--problem", "quadratic", "--epochs", "1", "--num-steps", "60",
        "--unroll-length", "20", "--eval-every", "1", "--eval-instances", "2", "--hidden-size",
        "6", "--seed", "5", "--threads", "1", "--run", run, "--checkpoint-dir",
        tmp.resolve("ck").toString(), "--tensorboard-dir", tmp.resolve("tb").toString());
  }

  private Path cluster(int workers) throws IOException {
    List<String> hosts = new ArrayList<>();
    for (int port : ClusterSpec.freePorts(workers)) {
      hosts.add("localhost:" + port);
    }
    return Files.writeString(tmp.resolve("cluster-" + workers + ".json"),
        ClusterSpec.json(hosts));
  }

  private static float[][] gradients(Path log) throws IOException {
    return Files.readAllLines(log).stream().map(line -> {
      String[] parts = line.split(" ");
      float[] v = new float[parts.length];
      for (int i = 0; i < parts.length; i++) {
        v[i] = Float.parseFloat(parts[i]);
      }
      return v;
    }).toArray(float[][]::new);
  }

  @Test
  void twoWorkersRepeatOneProcessWithTwoInstancesPerStep() throws Exception {
    // One process, two instances per meta-step (in this JVM: it starts no server).
    List<String> single = new ArrayList<>(List.of("train"));
    single.addAll(settings("single"));
    single.addAll(List.of("--instances-per-step", "2", "--meta-gradient-log",
        tmp.resolve("single.log").toString()));
    assertEquals(0, CliTest.run(single.toArray(String[]::new)).code());

    Path cluster = cluster(2);
    Path work = Files.createDirectories(tmp.resolve("worker1-cwd"));
    try (ChildJvm jvm = new ChildJvm()) {
      Process w1 = jvm.l2l(work, tmp.resolve("w1.out"), "train", "--cluster", cluster.toString(),
          "--task", "1", "--meta-gradient-log", tmp.resolve("w1.log").toString());
      List<String> chief = new ArrayList<>(List.of("train", "--cluster", cluster.toString(),
          "--task", "0", "--meta-gradient-log", tmp.resolve("w0.log").toString()));
      chief.addAll(settings("dist"));
      Process w0 = jvm.l2l(tmp, tmp.resolve("w0.out"), chief.toArray(String[]::new));
      assertEquals(0, ChildJvm.exitCode(w0, 5), Files.readString(tmp.resolve("w0.out")));
      assertEquals(0, ChildJvm.exitCode(w1, 5), Files.readString(tmp.resolve("w1.out")));
    }
    float[][] one = gradients(tmp.resolve("single.log"));
    float[][] w0 = gradients(tmp.resolve("w0.log"));
    float[][] w1 = gradients(tmp.resolve("w1.log"));
    assertEquals(3, one.length, "3 meta-steps");
    assertEquals(3, w0.length);
    // 6 hidden units: phi has 511 values; then the mean meta-loss and final loss.
    assertEquals(511 + 2, one[0].length);
    double worst = 0;
    for (int s = 0; s < 3; s++) {
      assertEquals(one[s].length, w0[s].length);
      for (int i = 0; i < one[s].length; i++) {
        // Both workers applied the very same averaged meta-gradient.
        assertEquals(Float.floatToRawIntBits(w0[s][i]), Float.floatToRawIntBits(w1[s][i]),
            "meta-step " + s + ", value " + i);
        double diff = Math.abs(w0[s][i] - one[s][i]) / Math.max(1, Math.abs(one[s][i]));
        worst = Math.max(worst, diff);
      }
    }
    System.out.println("distributed vs --instances-per-step 2: largest relative difference of "
        + "the averaged meta-gradients " + worst);
    assertTrue(worst <= GRADIENT_TOLERANCE, "largest relative difference " + worst);
    // The same meta-gradients make the same weights.
    List<float[]> a = OptimizerFile.read(tmp.resolve("ck/single/latest/optimizer.l2lw")).values();
    List<float[]> b = OptimizerFile.read(tmp.resolve("ck/dist/latest/optimizer.l2lw")).values();
    for (int i = 0; i < a.size(); i++) {
      for (int j = 0; j < a.get(i).length; j++) {
        assertEquals(a.get(i)[j], b.get(i)[j], 1e-5 * Math.max(1, Math.abs(a.get(i)[j])));
      }
    }
    // Every worker checked, at the end, that all hold the same weights.
    for (String out : List.of("w0.out", "w1.out")) {
      assertTrue(Files.readString(tmp.resolve(out)).contains("weights identical on all 2 "
          + "workers (511 values compared)"), out);
    }
    assertTrue(Files.readString(tmp.resolve("ck/dist/config.json")).contains(
        "\"instances_per_step\": 1,\n    \"workers\": 2"));
    assertFalse(Files.exists(work.resolve("checkpoints")), "worker 1 writes no run");
    assertFalse(Files.exists(work.resolve("tensorboard")), "worker 1 writes no run");
  }

  @Test
  void aLostWorkerStopsTheOthersThenTheRunResumesWithTheRest() throws Exception {
    Path cluster = cluster(3);
    Path dir = tmp.resolve("ck/lost");
    List<String> chief = new ArrayList<>(List.of("train", "--cluster", cluster.toString(),
        "--task", "0"));
    chief.addAll(List.of("--problem", "quadratic", "--epochs", "60", "--eval-every", "5",
        "--eval-instances", "2", "--checkpoint-every", "5", "--hidden-size", "6", "--seed", "5",
        "--threads", "1", "--run", "lost", "--checkpoint-dir", tmp.resolve("ck").toString(),
        "--tensorboard-dir", tmp.resolve("tb").toString()));
    String w0out;
    String w1out;
    try (ChildJvm jvm = new ChildJvm()) {
      Process w1 = jvm.l2l(tmp, tmp.resolve("w1.out"), "train", "--cluster", cluster.toString(),
          "--task", "1");
      Process w2 = jvm.l2l(tmp, tmp.resolve("w2.out"), "train", "--cluster", cluster.toString(),
          "--task", "2");
      Process w0 = jvm.l2l(tmp, tmp.resolve("w0.out"), chief.toArray(String[]::new));
      Path state = dir.resolve("latest/state.json");
      long deadline = System.nanoTime() + 240_000_000_000L;
      while (!Files.exists(state) && w0.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(w0.isAlive() && Files.exists(state), "a checkpoint was written mid-run");
      w2.destroyForcibly();
      assertEquals(Collectives.EXIT_LOST_WORKER, ChildJvm.exitCode(w0, 2));
      assertEquals(Collectives.EXIT_LOST_WORKER, ChildJvm.exitCode(w1, 2));
      w0out = Files.readString(tmp.resolve("w0.out"));
      w1out = Files.readString(tmp.resolve("w1.out"));
    }
    String port = Files.readString(cluster).split("\"")[7];
    Pattern w0line = Pattern.compile("(?m)^l2l: worker 0: lost worker 2 \\(" + Pattern.quote(port)
        + "\\): its port no longer accepts connections, (in epoch \\d+, meta-step \\d of 5|at "
        + "the end of epoch \\d+|in epoch \\d+, evaluation) \\(TensorFlow: .*\\); continue from "
        + "the last checkpoint .*with: \\./l2l train --resume " + Pattern.quote(dir.toString())
        + " \\[--cluster FILE --task 0\\]$");
    assertTrue(w0line.matcher(w0out).find(), w0out);
    assertTrue(Pattern.compile("(?m)^l2l: worker 1: lost worker 2 \\(" + Pattern.quote(port)
        + "\\).*the chief's last checkpoint continues the run").matcher(w1out).find(), w1out);
    assertEquals(1, w0out.lines().filter(l -> l.startsWith("l2l: ")).count(), w0out);
    assertFalse(w0out.contains("Exception"), w0out);
    int saved = com.google.gson.JsonParser.parseString(Files.readString(dir.resolve(
        "latest/state.json"))).getAsJsonObject().get("epoch").getAsInt();

    // The remaining worker: the chief alone, here in this JVM (no cluster, no server).
    CliTest.Printed resumed = CliTest.runPrinting("train", "--resume", dir.toString(),
        "--tensorboard-dir", tmp.resolve("tb").toString());
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.out().contains("resuming " + dir + " from epoch " + saved + " of 60"),
        resumed.out());
    List<String> rows = Files.readAllLines(dir.resolve("metrics.csv"));
    assertEquals(61, rows.size(), "header and every epoch once");
    for (int e = 1; e <= 60; e++) {
      assertTrue(rows.get(e).startsWith(e + ","), rows.get(e));
    }
    assertFalse(Files.readString(dir.resolve("config.json")).contains("\"parallel\""),
        "one instance per meta-step now");
  }
}
