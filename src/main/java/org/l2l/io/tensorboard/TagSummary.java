package org.l2l.io.tensorboard;

import java.util.Locale;

/**
 * What an event folder holds under one tag: one line of the {@code inspect} command.
 *
 * @param tag the summary tag, or {@link #GRAPH_TAG} for the graph
 * @param kind what sort of data the tag carries
 * @param count how many events carry it
 * @param lastStep the step of the last such event (in file order)
 * @param lastValue the last value for scalars, NaN for other kinds
 */
public record TagSummary(String tag, Kind kind, int count, long lastStep, double lastValue) {

  /** The pseudo-tag under which graph events are summarized (graphs carry no tag). */
  public static final String GRAPH_TAG = "(graph)";

  /** The sorts of event data told apart by {@link EventReader#summarize}. */
  public enum Kind {
    /** A number per step. */
    SCALAR,
    /** A distribution per step. */
    HISTOGRAM,
    /** A serialized GraphDef. */
    GRAPH,
    /** Anything else (images, audio, non-scalar tensors), counted but not decoded. */
    OTHER;

    /** Lower-case name, as printed by {@code inspect}. */
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
