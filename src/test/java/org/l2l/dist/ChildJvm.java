package org.l2l.dist;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Child JVMs for the tests that start TensorFlow servers: a started server cannot be stopped
 * (only the end of its JVM ends it), so no test starts one in the test JVM. Every child is
 * killed by its process id when the test ends ({@link #close}).
 */
public final class ChildJvm implements AutoCloseable {

  private final List<Process> started = new ArrayList<>();

  /** Starts {@code mainClass} with {@code args} in {@code dir}, output (both streams) to {@code log}. */
  public Process start(Path dir, Path log, String mainClass, List<String> args)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
        "java").toString(), "-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    started.add(p);
    return p;
  }

  /** Starts {@code l2l ARGS} ({@code org.l2l.cli.Main}). */
  public Process l2l(Path dir, Path log, String... args) throws IOException {
    return start(dir, log, "org.l2l.cli.Main", List.of(args));
  }

  /** Waits for {@code p} up to {@code minutes}; its exit code, or fails if it does not end. */
  public static int exitCode(Process p, int minutes) throws InterruptedException {
    if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("child JVM pid " + p.pid() + " did not end in " + minutes
          + " minutes");
    }
    return p.exitValue();
  }

  /** Kills every child still running, by process id. */
  @Override
  public void close() throws InterruptedException {
    for (Process p : started) {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }
}
