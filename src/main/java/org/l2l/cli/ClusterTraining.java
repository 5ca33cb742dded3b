package org.l2l.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.l2l.UserError;
import org.l2l.dist.ClusterSpec;
import org.l2l.dist.Collectives;
import org.l2l.meta.Parallel;
import org.l2l.meta.Unroll;

/**
 * {@code train --cluster}: this process as one worker of synchronous data-parallel
 * meta-training, over {@link Collectives}. At the start the chief (task 0) sends the run's
 * settings and its first epoch (the others need no run folder and no flags but {@code --cluster}
 * and {@code --task}), then its weights and Adam state, so that every worker starts from the
 * chief's (fresh, {@code --init-from} or {@code --resume}). Every meta-step averages the
 * meta-gradients; every epoch ends with an agreement on stopping (Ctrl-C or SIGTERM on any
 * worker, {@code --stop-after} on the chief); at the end every worker checks that all hold the
 * same weights.
 */
final class ClusterTraining implements Parallel.Exchange {

  /** The longest config.json the chief can send, in bytes. */
  static final int CONFIG_BYTES = 1 << 16;

  private final Collectives collectives;
  private volatile boolean stopAgreed;

  private ClusterTraining(Collectives collectives) {
    this.collectives = collectives;
  }

  /** Starts this worker's server and waits for the others (see {@link Collectives#join}). */
  static ClusterTraining join(ClusterSpec spec, int task, double stepTimeout) {
    return new ClusterTraining(Collectives.join(spec, task, stepTimeout, System.out));
  }

  int task() {
    return collectives.task();
  }

  int workers() {
    return collectives.size();
  }

  @Override
  public float[] mean(float[] local) {
    return collectives.mean(local);
  }

  @Override
  public boolean anyStop(boolean local) {
    stopAgreed = collectives.sum(new float[] {local ? 1 : 0})[0] > 0;
    return stopAgreed;
  }

  @Override
  public void context(String where) {
    collectives.setContext(where);
  }

  /** Appended to the one line printed when a lost worker ends the process. */
  void setOnLost(String text) {
    collectives.setOnLost(text);
  }

  /** Whether the last end-of-epoch agreement was to stop. */
  boolean stopAgreed() {
    return stopAgreed;
  }

  /** What the chief sends at the start. */
  record Start(JsonObject config, int firstEpoch, int instancesPerStep) {}

  /**
   * The first exchange: the chief's config.json, first epoch and instances per step reach every
   * worker (the chief passes them, the others null); each worker counts itself in, so a
   * mismatched cluster shows here.
   */
  Start start(JsonObject config, int firstEpoch, int instancesPerStep) {
    float[] v = new float[4 + CONFIG_BYTES];
    v[0] = 1;
    if (config != null) {
      byte[] bytes = config.toString().getBytes(StandardCharsets.UTF_8);
      if (bytes.length > CONFIG_BYTES) {
        throw new UserError("config.json is " + bytes.length + " bytes; a distributed run can "
            + "send at most " + CONFIG_BYTES);
      }
      v[1] = firstEpoch;
      v[2] = instancesPerStep;
      v[3] = bytes.length;
      for (int i = 0; i < bytes.length; i++) {
        v[4 + i] = bytes[i] & 0xff;
      }
    }
    collectives.setContext("at the start (receiving the chief's settings)");
    float[] s = collectives.handshake(v);
    if ((int) s[0] != workers()) {
      throw new UserError("--cluster " + collectives.spec().source() + ": " + (int) s[0]
          + " workers answered, the file lists " + workers() + "; give every worker the same "
          + "cluster file");
    }
    byte[] bytes = new byte[(int) s[3]];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (int) s[4 + i];
    }
    JsonObject received = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8))
        .getAsJsonObject();
    return new Start(received, (int) s[1], (int) s[2]);
  }

  /**
   * Every worker takes the chief's weights phi and Adam state (the others contribute zeros to a
   * sum), the chief included, so that all start bit-identical.
   */
  void shareState(Unroll unroll) {
    List<float[]> phi = unroll.metaParamValues();
    List<float[]> slots = unroll.metaOptimizerValues();
    List<float[]> all = new ArrayList<>(phi);
    all.addAll(slots);
    float[] flat = flatten(all);
    if (task() != 0) {
      java.util.Arrays.fill(flat, 0f);
    }
    collectives.setContext("at the start (receiving the chief's weights)");
    float[] sum = collectives.sum(flat);
    List<float[]> parts = split(sum, all);
    unroll.setMetaParamValues(parts.subList(0, phi.size()));
    unroll.setMetaOptimizerValues(parts.subList(phi.size(), parts.size()));
  }

  /**
   * Checks that every worker holds the same weights (the element-wise maximum of phi and of -phi
   * over the workers equals this worker's); prints one line, or throws if they differ.
   */
  void verifyWeights(Unroll unroll) {
    float[] phi = flatten(unroll.metaParamValues());
    float[] both = new float[2 * phi.length];
    for (int i = 0; i < phi.length; i++) {
      both[i] = phi[i];
      both[phi.length + i] = -phi[i];
    }
    collectives.setContext("at the end (comparing the weights)");
    float[] max = collectives.max(both);
    int differing = 0;
    for (int i = 0; i < phi.length; i++) {
      if (Float.compare(max[i], phi[i]) != 0 || Float.compare(-max[phi.length + i], phi[i]) != 0) {
        differing++;
      }
    }
    if (differing > 0) {
      throw new IllegalStateException("worker " + task() + ": the weights differ between the "
          + "workers in " + differing + " of " + phi.length + " values");
    }
    System.out.printf(Locale.ROOT, "worker %d: weights identical on all %d workers (%d values "
        + "compared); all-reduce of the meta-gradient (%d floats): median %.2f ms over %d "
        + "meta-steps%n", task(), workers(), phi.length, phi.length + 2,
        Collectives.median(collectives.meanMillis()), collectives.meanMillis().length);
  }

  static float[] flatten(List<float[]> parts) {
    int n = 0;
    for (float[] p : parts) {
      n += p.length;
    }
    float[] flat = new float[n];
    int at = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, flat, at, p.length);
      at += p.length;
    }
    return flat;
  }

  private static List<float[]> split(float[] flat, List<float[]> like) {
    List<float[]> out = new ArrayList<>();
    int at = 0;
    for (float[] p : like) {
      out.add(java.util.Arrays.copyOfRange(flat, at, at + p.length));
      at += p.length;
    }
    return out;
  }

  /**
   * {@code --meta-gradient-log FILE}: every meta-gradient applied, one line each (the floats in
   * {@code Float.toString} form, exact), written to a temporary sibling and renamed into place
   * when training ends, so the file is whole or absent.
   */
  static final class GradientLog implements Consumer<float[]>, AutoCloseable {
    private final Path file;
    private final Path tmp;
    private final BufferedWriter out;

    GradientLog(Path file) throws IOException {
      this.file = file.toAbsolutePath();
      Path parent = this.file.getParent();
      Files.createDirectories(parent);
      tmp = Files.createTempFile(parent, "." + this.file.getFileName(), ".tmp");
      out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
    }

    @Override
    public void accept(float[] v) {
      try {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
          line.append(i == 0 ? "" : " ").append(v[i]);
        }
        out.write(line.append('\n').toString());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Renames the finished log into place. */
    void finish() throws IOException {
      out.close();
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void close() throws IOException {
      out.close();
      Files.deleteIfExists(tmp);
    }
  }
}
