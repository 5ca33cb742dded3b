package org.l2l.io.tensorboard;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.l2l.io.AtomicFiles;
import org.tensorflow.proto.GraphDef;

/**
 * Draws the top-level structure of a graph ({@link ScopeGraph}) as a self-contained SVG file: one
 * box per scope with its node count, arrows for data flow (dashed for control-only flow), columns
 * left to right in data-flow order, boxes coloured by a caller-chosen category.
 *
 * <p>Plain SVG with inline styles and no scripts, so browsers, editors and converters all show it
 * the same. Boxes are {@code <g class="box" data-scope=...>}, arrows {@code <path class="edge"
 * data-from=... data-to=...>}, which also makes the picture easy to check in tests.
 */
public final class GraphPicture {

  private static final String[] PALETTE = {
    "#cfe2f3", "#d9ead3", "#fce5cd", "#ead1dc", "#fff2cc", "#d0e0e3", "#e6e0f8", "#f4cccc"
  };
  private static final String NO_CATEGORY_FILL = "#eeeeee";
  private static final int FONT = 13;
  private static final double CHAR_WIDTH = 7.6; // generous average width of a 13px sans-serif glyph
  private static final int MARGIN = 20;
  private static final int HEADER = 30;
  private static final int COL_GAP = 90;
  private static final int ROW_GAP = 34;
  private static final int MIN_BOX_WIDTH = 110;
  private static final int LANE_GAP = 8;

  private GraphPicture() {}

  /** Writes the picture of {@code graph} to {@code svg}, collapsing numbered scopes, uncoloured. */
  public static void write(GraphDef graph, Path svg) {
    write(graph, svg, scope -> null, true);
  }

  /** Writes the picture of {@code graph} to {@code svg}, collapsing numbered scopes. */
  public static void write(GraphDef graph, Path svg, Function<String, String> category) {
    write(graph, svg, category, true);
  }

  /**
   * Writes the picture of {@code graph} to {@code svg} atomically (see {@link AtomicFiles}).
   *
   * @param category maps a box's scope name (for a collapsed run, its first member; for pooled
   *     unscoped nodes, {@link ScopeGraph#ROOT}) to a category such as "optimizer", or null/blank
   *     for none; each category gets its own colour and a legend entry
   * @param collapseNumbered whether runs like step_0..step_19 share one box
   * @throws EventFileException if the file cannot be written
   */
  public static void write(
      GraphDef graph, Path svg, Function<String, String> category, boolean collapseNumbered) {
    try {
      AtomicFiles.writeString(svg, render(ScopeGraph.of(graph, collapseNumbered), category));
    } catch (java.io.IOException e) {
      throw new EventFileException(svg, "cannot write the picture (" + e.getMessage() + ")", e);
    }
  }

  /**
   * The SVG text for an already grouped graph; see {@link #write(GraphDef, Path, Function,
   * boolean)}.
   */
  public static String render(ScopeGraph graph, Function<String, String> category) {
    List<ScopeGraph.Box> boxes = graph.boxes();
    List<String> categories = new ArrayList<>();
    Map<String, String> fill = new TreeMap<>();
    for (ScopeGraph.Box b : boxes) {
      String c = category.apply(b.scope());
      c = c == null || c.isBlank() ? null : c.strip();
      categories.add(c);
      if (c != null) {
        fill.put(c, null);
      }
    }
    int colour = 0;
    for (Map.Entry<String, String> entry : fill.entrySet()) {
      entry.setValue(PALETTE[colour++ % PALETTE.length]);
    }
    Layout at = new Layout(graph, categories, fill.isEmpty() ? 46 : 62);
    int legendTop = at.bottomLanesEnd + 28;
    int totalWidth = Math.max(at.right + MARGIN, 420);
    int totalHeight = legendTop + 20 * (fill.size() + 1) + MARGIN;

    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d"
                + " %d\" font-family=\"sans-serif\" font-size=\"%d\">%n",
            totalWidth,
            totalHeight,
            totalWidth,
            totalHeight,
            FONT));
    String summary = graph.nodeCount() + " nodes in " + boxes.size() + " boxes";
    svg.append("<title>TensorFlow graph: ").append(esc(summary)).append("</title>\n");
    svg.append(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\""
            + " markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\""
            + " fill=\"#555555\"/></marker></defs>\n");
    svg.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    text(
        svg,
        MARGIN,
        MARGIN + 14,
        "header",
        "font-weight=\"bold\"",
        boxes.isEmpty() ? "empty graph" : summary);

    svg.append("<g class=\"edges\" fill=\"none\" stroke=\"#555555\" stroke-width=\"1.5\">\n");
    for (int k = 0; k < graph.edges().size(); k++) {
      ScopeGraph.Edge e = graph.edges().get(k);
      String from = boxes.get(e.from()).label();
      String to = boxes.get(e.to()).label();
      svg.append("<path class=\"edge ")
          .append(e.controlOnly() ? "control" : "data")
          .append('"')
          .append(" data-from=\"")
          .append(esc(from))
          .append("\" data-to=\"")
          .append(esc(to))
          .append('"')
          .append(" d=\"")
          .append(at.path(k))
          .append('"')
          .append(e.controlOnly() ? " stroke-dasharray=\"6,4\"" : "")
          .append(" marker-end=\"url(#arrow)\"><title>")
          .append(
              esc(
                  from
                      + " \u2192 "
                      + to
                      + ": "
                      + e.dataInputs()
                      + " data, "
                      + e.controlInputs()
                      + " control inputs"))
          .append("</title></path>\n");
    }
    svg.append("</g>\n<g class=\"boxes\">\n");
    for (int i = 0; i < boxes.size(); i++) {
      ScopeGraph.Box b = boxes.get(i);
      String c = categories.get(i);
      int x = at.x[i];
      int y = at.y[i];
      int cx = x + at.width(i) / 2;
      svg.append("<g class=\"box\" data-scope=\"")
          .append(esc(b.label()))
          .append('"')
          .append(c == null ? "" : " data-category=\"" + esc(c) + "\"")
          .append(">\n");
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" fill=\"%s\""
                  + " stroke=\"#444444\"/>%n",
              x,
              y,
              at.width(i),
              at.boxHeight,
              c == null ? NO_CATEGORY_FILL : fill.get(c)));
      text(svg, cx, y + 19, "label", "text-anchor=\"middle\" font-weight=\"bold\"", b.label());
      text(
          svg,
          cx,
          y + 37,
          "count",
          "text-anchor=\"middle\" font-size=\"11\" fill=\"#333333\"",
          b.nodeCount() + (b.nodeCount() == 1 ? " node" : " nodes"));
      if (c != null) {
        text(
            svg,
            cx,
            y + 53,
            "category",
            "text-anchor=\"middle\" font-size=\"11\" font-style=\"italic\"",
            c);
      }
      svg.append("</g>\n");
    }
    svg.append("</g>\n<g class=\"legend\" font-size=\"11\">\n");
    int y = legendTop;
    for (Map.Entry<String, String> entry : fill.entrySet()) {
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\""
                  + " stroke=\"#444444\"/>%n",
              MARGIN,
              y - 11,
              entry.getValue()));
      text(svg, MARGIN + 20, y, "legend-entry", "", entry.getKey());
      y += 20;
    }
    text(
        svg,
        MARGIN,
        y,
        "legend-note",
        "fill=\"#333333\"",
        "solid arrow: data flow; dashed: control dependencies only"
            + (graph.edges().stream().anyMatch(ScopeGraph.Edge::backward)
                ? "; arrows along the bottom close cycles"
                : ""));
    svg.append("</g>\n</svg>\n");
    return svg.toString();
  }

  /**
   * Box positions and edge routes. Edges between neighbouring columns are plain curves; longer
   * forward edges run in lanes above all boxes and cycle-closing edges in lanes below them, leaving
   * and entering through the gaps between columns, so no arrow crosses a box it does not touch.
   */
  private static final class Layout {
    final List<ScopeGraph.Box> boxes;
    final List<ScopeGraph.Edge> edges;
    final int boxHeight;
    final int[] columnWidth;
    final int[] x;
    final int[] y;
    final int[] lane; // y of the lane of each edge, -1 for direct curves
    final int right;
    final int bottomLanesEnd;

    Layout(ScopeGraph graph, List<String> categories, int boxHeight) {
      this.boxes = graph.boxes();
      this.edges = graph.edges();
      this.boxHeight = boxHeight;
      int columns = boxes.stream().mapToInt(b -> b.column() + 1).max().orElse(0);
      columnWidth = new int[columns];
      int[] rows = new int[columns];
      for (int i = 0; i < boxes.size(); i++) {
        ScopeGraph.Box b = boxes.get(i);
        int chars =
            Math.max(
                b.label().length(), categories.get(i) == null ? 0 : categories.get(i).length());
        columnWidth[b.column()] =
            Math.max(
                columnWidth[b.column()], Math.max(MIN_BOX_WIDTH, (int) (chars * CHAR_WIDTH) + 24));
        rows[b.column()]++;
      }
      // Lanes: the longest spans outermost, so that nested routes do not cross.
      List<Integer> above = new ArrayList<>();
      List<Integer> below = new ArrayList<>();
      for (int k = 0; k < edges.size(); k++) {
        ScopeGraph.Edge e = edges.get(k);
        int span = boxes.get(e.to()).column() - boxes.get(e.from()).column();
        if (e.backward()) {
          below.add(k);
        } else if (span > 1) {
          above.add(k);
        }
      }
      Comparator<Integer> bySpan =
          Comparator.comparingInt(
              k ->
                  Math.abs(
                      boxes.get(edges.get(k).to()).column()
                          - boxes.get(edges.get(k).from()).column()));
      above.sort(bySpan.reversed());
      below.sort(bySpan);
      int maxRows = 1;
      int[] left = new int[columns];
      // Cycle-closing edges turn beside the outer columns too: leave room there.
      int aside = below.isEmpty() ? 0 : COL_GAP / 2;
      int edge = MARGIN + aside;
      for (int c = 0; c < columns; c++) {
        left[c] = edge;
        edge += columnWidth[c] + COL_GAP;
        maxRows = Math.max(maxRows, rows[c]);
      }
      right = edge - COL_GAP + aside;

      lane = new int[edges.size()];
      Arrays.fill(lane, -1);
      int top = MARGIN + HEADER;
      for (int k : above) {
        lane[k] = top;
        top += LANE_GAP;
      }
      int boxesTop = top + (above.isEmpty() ? 0 : 10);
      int pitch = boxHeight + ROW_GAP;
      x = new int[boxes.size()];
      y = new int[boxes.size()];
      for (int i = 0; i < boxes.size(); i++) {
        ScopeGraph.Box b = boxes.get(i);
        x[i] = left[b.column()];
        y[i] = boxesTop + b.row() * pitch + (maxRows - rows[b.column()]) * pitch / 2;
      }
      int bottom = boxesTop + maxRows * pitch - ROW_GAP + 14;
      for (int k : below) {
        lane[k] = bottom;
        bottom += LANE_GAP;
      }
      bottomLanesEnd = bottom;
    }

    int width(int box) {
      return columnWidth[boxes.get(box).column()];
    }

    /**
     * SVG path data of edge {@code k}: from the right side of its source to the left of its target.
     */
    String path(int k) {
      int f = edges.get(k).from();
      int t = edges.get(k).to();
      int x1 = x[f] + width(f);
      int y1 = y[f] + boxHeight / 2;
      int x2 = x[t];
      int y2 = y[t] + boxHeight / 2;
      if (lane[k] < 0) {
        int dx = (x2 - x1) / 2;
        return String.format(
            Locale.ROOT, "M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1 + dx, y1, x2 - dx, y2, x2, y2);
      }
      int l = lane[k];
      int xa = x1 + COL_GAP / 2 - 6; // in the gap after the source column
      int xb = x2 - COL_GAP / 2 + 6; // in the gap before the target column
      int r = 8; // corner radius
      int d1 = Integer.signum(l - y1);
      int h = Integer.signum(xb - xa);
      int d2 = Integer.signum(y2 - l);
      return String.format(
          Locale.ROOT,
          "M%d,%d H%d Q%d,%d %d,%d V%d Q%d,%d %d,%d H%d Q%d,%d %d,%d V%d Q%d,%d %d,%d H%d",
          x1,
          y1,
          xa - r,
          xa,
          y1,
          xa,
          y1 + d1 * r,
          l - d1 * r,
          xa,
          l,
          xa + h * r,
          l,
          xb - h * r,
          xb,
          l,
          xb,
          l + d2 * r,
          y2 - d2 * r,
          xb,
          y2,
          xb + r,
          y2,
          x2);
    }
  }

  private static void text(
      StringBuilder svg, int x, int y, String cls, String attributes, String content) {
    svg.append(
            String.format(
                Locale.ROOT, "<text class=\"%s\" x=\"%d\" y=\"%d\" %s>", cls, x, y, attributes))
        .append(esc(content))
        .append("</text>\n");
  }

  /** Escapes text for XML content and double-quoted attributes (TF names may contain '>'). */
  private static String esc(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        default -> out.append(ch < ' ' ? ' ' : ch); // control characters are not allowed in XML
      }
    }
    return out.toString();
  }
}
