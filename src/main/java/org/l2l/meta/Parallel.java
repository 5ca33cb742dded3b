package org.l2l.meta;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.l2l.config.Json;
import org.l2l.io.AtomicFiles;
import org.l2l.io.FormatException;

/**
 * How one process takes part in synchronous data-parallel meta-training: it unrolls
 * {@code instancesPerStep} instances per meta-step, and the meta-gradients of all
 * {@code instancesPerStep × workers} instances are averaged before the one meta-update that every
 * worker applies. Instance m of epoch e (m = task × instancesPerStep + j, for this process's j-th
 * instance) is drawn from {@link #instanceRandom}; instance 0 is the one a single process draws,
 * so N workers × 1 instance and 1 process × N instances are the same computation.
 *
 * @param instancesPerStep instances this process unrolls per meta-step ({@code
 *     --instances-per-step})
 * @param task this process's index among the workers (0, the chief, evaluates)
 * @param workers number of workers
 * @param exchange how the workers average and agree; {@link Exchange#LOCAL} for one process
 * @param appliedGradients receives every meta-gradient applied (the average, flattened in
 *     {@link Unroll#metaParamValues} order, then the mean meta-loss and final loss), or null
 */
public record Parallel(int instancesPerStep, int task, int workers, Exchange exchange,
    Consumer<float[]> appliedGradients) {

  /** What the workers share. */
  public interface Exchange {
    /** The element-wise mean over the workers of every worker's {@code local}. */
    float[] mean(float[] local);

    /** True if any worker asks to stop after this epoch; called once per epoch by every one. */
    boolean anyStop(boolean local);

    /** Where training is, for the message of a lost worker ("in epoch 3, meta-step 2"). */
    default void context(String where) {}

    /** One process: nothing to share. */
    Exchange LOCAL = new Exchange() {
      @Override
      public float[] mean(float[] local) {
        return local;
      }

      @Override
      public boolean anyStop(boolean local) {
        return local;
      }
    };
  }

  /** One process, one instance per meta-step: meta-training as it always was. */
  public static final Parallel NONE = new Parallel(1, 0, 1, Exchange.LOCAL, null);

  /** One process averaging {@code k} instances per meta-step. */
  public static Parallel local(int k) {
    return new Parallel(k, 0, 1, Exchange.LOCAL, null);
  }

  /** Validates the counts. */
  public Parallel {
    if (instancesPerStep < 1 || workers < 1 || task < 0 || task >= workers) {
      throw new IllegalArgumentException("instances " + instancesPerStep + ", task " + task
          + " of " + workers);
    }
  }

  /** Worker 0, the one that evaluates and writes. */
  public boolean chief() {
    return task == 0;
  }

  /** Instances per meta-step over all workers. */
  public int instancesPerMetaStep() {
    return instancesPerStep * workers;
  }

  /** config.json's key for the parallel settings, present only when there is more than one. */
  public static final String CONFIG_KEY = "parallel";

  /**
   * Writes config.json: the run's settings and, if a meta-step averages more than one instance,
   * {@code "parallel": {"instances_per_step": K, "workers": N}} (not part of the run's identity:
   * a run may be resumed with other numbers).
   */
  public static void writeConfig(RunConfig config, int instancesPerStep, int workers, Path file)
      throws IOException {
    JsonObject o = config.toJson();
    if (instancesPerStep * workers > 1) {
      JsonObject p = new JsonObject();
      p.addProperty("instances_per_step", instancesPerStep);
      p.addProperty("workers", workers);
      o.add(CONFIG_KEY, p);
    }
    AtomicFiles.writeString(file, Json.text(o));
  }

  /** The instances per step (per worker) a run's config.json records; 1 if none. */
  public static int recordedInstancesPerStep(Path file) {
    try {
      JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      if (!o.has(CONFIG_KEY)) {
        return 1;
      }
      int k = o.getAsJsonObject(CONFIG_KEY).get("instances_per_step").getAsInt();
      if (k < 1) {
        throw new IllegalArgumentException("instances_per_step " + k);
      }
      return k;
    } catch (IOException | RuntimeException e) {
      throw FormatException.of(file, "unreadable \"" + CONFIG_KEY + "\" (" + e.getMessage()
          + ")");
    }
  }

  /** The random stream of training instance {@code m} of {@code epoch}. */
  public static SplittableRandom instanceRandom(long seed, int epoch, int m) {
    return m == 0 ? Seeds.random(seed, Seeds.Stream.TRAIN, epoch)
        : Seeds.random(seed, Seeds.Stream.TRAIN_MORE, ((long) epoch << 20) + m);
  }
}
