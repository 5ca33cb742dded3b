package org.l2l.io;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnitSource;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws loss curves in the style of Fig. 4 of Andrychowicz et al. (2016): loss on a
 * logarithmic y axis against the optimisation step, one line per optimizer.
 *
 * <p>A log axis cannot show zero, negative, NaN or infinite values; such points are left out
 * and the line is broken there (a diverged optimizer simply stops being drawn) rather than
 * failing the whole figure, because plotting usually happens at the very end of a long run.
 */
public final class LossPlot {

  static {
    // Must be set before the first AWT class initialises (hence first in this class);
    // an explicit user choice is respected.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Image width in pixels. */
  public static final int WIDTH = 900;

  /** Image height in pixels. */
  public static final int HEIGHT = 600;

  /** Line width in pixels: thick enough to tell overlapping curves apart. */
  private static final float LINE_WIDTH = 2.0f;

  /**
   * Distinct colours, in order of use (the "tab10" palette familiar from matplotlib figures,
   * chosen for legibility and colour-blind friendliness); repeats after ten curves.
   */
  private static final Color[] PALETTE = {
      new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
      new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
      new Color(0xbcbd22), new Color(0x17becf),
  };

  private static final Color GRID = new Color(0xdddddd);
  private static final String FONT_FAMILY = Font.SANS_SERIF;
  private static final int TITLE_POINTS = 18;
  private static final int LABEL_POINTS = 15;
  private static final int TICK_POINTS = 13;
  private static final int LEGEND_POINTS = 14;

  /** Room around the plot so tick labels are not clipped at the image border. */
  private static final double CHART_PADDING = 8.0;

  /** y range shown when no curve has a single drawable point, so the axis is still sane. */
  private static final double EMPTY_RANGE_LOW = 0.1;
  private static final double EMPTY_RANGE_HIGH = 10.0;

  private LossPlot() {}

  /**
   * Writes a PNG of {@code curves}, atomically (the image is rendered in memory first).
   *
   * @param file the PNG file to create or replace
   * @param title the chart title (may be empty)
   * @param curves legend label to values; value {@code i} is drawn at x = {@code i} (the
   *     step). Use a {@link java.util.LinkedHashMap} to control the legend order.
   * @param xLabel x axis label, e.g. "step"
   * @param yLabel y axis label, e.g. "loss"
   * @throws IOException if rendering or writing fails
   */
  public static void writePng(Path file, String title, Map<String, double[]> curves,
      String xLabel, String yLabel) throws IOException {
    JFreeChart chart = createChart(title, curves, xLabel, yLabel);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
    AtomicFiles.writeBytes(file, png.toByteArray());
  }

  /**
   * Builds the chart without rendering it (exposed for callers that want another format).
   *
   * @param title the chart title
   * @param curves legend label to values; see {@link #writePng}
   * @param xLabel x axis label
   * @param yLabel y axis label
   * @return the chart
   */
  public static JFreeChart createChart(String title, Map<String, double[]> curves,
      String xLabel, String yLabel) {
    XYSeriesCollection dataset = new XYSeriesCollection();
    int maxLength = 0;
    boolean anyDrawable = false;
    for (Map.Entry<String, double[]> curve : curves.entrySet()) {
      // autoSort off (x is already increasing); duplicates allowed is irrelevant but cheaper.
      XYSeries series = new XYSeries(curve.getKey(), false, true);
      double[] values = curve.getValue();
      for (int i = 0; i < values.length; i++) {
        double v = values[i];
        if (v > 0 && Double.isFinite(v)) {
          series.add(i, v, false);
          anyDrawable = true;
        } else {
          // A null y makes the renderer break the line here instead of bridging the gap, and
          // is ignored when the axis range is computed.
          series.add(i, null, false);
        }
      }
      dataset.addSeries(series);
      maxLength = Math.max(maxLength, values.length);
    }

    NumberAxis xAxis = new NumberAxis(xLabel);
    xAxis.setStandardTickUnits(new NumberTickUnitSource(true, rootFormat()));
    xAxis.setAutoRangeIncludesZero(false);
    // Tight x range, like the paper; a single point still needs a non-empty range.
    xAxis.setRange(0, Math.max(1, maxLength - 1));

    LogAxis yAxis = new LogAxis(yLabel);
    // Integer exponents printed locale-free, shown as 10 with a superscript exponent.
    yAxis.setStandardTickUnits(new NumberTickUnitSource(true, rootFormat()));
    yAxis.setBaseSymbol("10");
    yAxis.setMinorTickMarksVisible(true);
    if (!anyDrawable) {
      yAxis.setRange(EMPTY_RANGE_LOW, EMPTY_RANGE_HIGH);
    }

    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    for (int s = 0; s < dataset.getSeriesCount(); s++) {
      renderer.setSeriesPaint(s, PALETTE[s % PALETTE.length]);
      renderer.setSeriesStroke(s, new BasicStroke(LINE_WIDTH, BasicStroke.CAP_ROUND,
          BasicStroke.JOIN_ROUND));
    }
    renderer.setDrawSeriesLineAsPath(true);

    XYPlot plot = new XYPlot(dataset, xAxis, yAxis, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(GRID);
    plot.setRangeGridlinePaint(GRID);
    plot.setDomainGridlineStroke(new BasicStroke(1.0f));
    plot.setRangeGridlineStroke(new BasicStroke(1.0f));
    plot.setOutlinePaint(Color.DARK_GRAY);
    plot.setAxisOffset(RectangleInsets.ZERO_INSETS);

    Font labelFont = new Font(FONT_FAMILY, Font.PLAIN, LABEL_POINTS);
    Font tickFont = new Font(FONT_FAMILY, Font.PLAIN, TICK_POINTS);
    for (ValueAxis axis : new ValueAxis[] {xAxis, yAxis}) {
      axis.setLabelFont(labelFont);
      axis.setTickLabelFont(tickFont);
      axis.setLabelPaint(Color.BLACK);
      axis.setTickLabelPaint(Color.BLACK);
    }

    JFreeChart chart = new JFreeChart(plot);
    chart.setBackgroundPaint(Color.WHITE);
    chart.setPadding(new RectangleInsets(CHART_PADDING, CHART_PADDING, CHART_PADDING,
        CHART_PADDING));
    if (title != null && !title.isEmpty()) {
      chart.setTitle(new TextTitle(title, new Font(FONT_FAMILY, Font.BOLD, TITLE_POINTS)));
    } else {
      chart.setTitle((TextTitle) null);
    }
    LegendTitle legend = chart.getLegend();
    legend.setItemFont(new Font(FONT_FAMILY, Font.PLAIN, LEGEND_POINTS));
    legend.setBackgroundPaint(Color.WHITE);
    legend.setFrame(BlockBorder.NONE);
    legend.setPosition(RectangleEdge.RIGHT);
    return chart;
  }

  /**
   * As {@link #writePng}, with a shaded band around each curve (say the interquartile range over
   * instances): {@code low} and {@code high} hold, per curve label, the band's edges at every
   * step. Points that a log axis cannot show are left out, as in {@link #writePng}.
   */
  public static void writePngWithBands(Path file, String title, Map<String, double[]> curves,
      Map<String, double[]> low, Map<String, double[]> high, String xLabel, String yLabel)
      throws IOException {
    JFreeChart chart = createChart(title, curves, xLabel, yLabel);
    XYPlot plot = chart.getXYPlot();
    org.jfree.data.xy.YIntervalSeriesCollection bands =
        new org.jfree.data.xy.YIntervalSeriesCollection();
    for (Map.Entry<String, double[]> curve : curves.entrySet()) {
      org.jfree.data.xy.YIntervalSeries series =
          new org.jfree.data.xy.YIntervalSeries(curve.getKey() + " (band)", false, true);
      double[] v = curve.getValue();
      double[] lo = low.get(curve.getKey());
      double[] hi = high.get(curve.getKey());
      for (int i = 0; i < v.length; i++) {
        if (v[i] > 0 && lo[i] > 0 && hi[i] > 0 && Double.isFinite(hi[i])
            && Double.isFinite(v[i])) {
          series.add(i, v[i], lo[i], hi[i]);
        }
      }
      bands.addSeries(series);
    }
    org.jfree.chart.renderer.xy.DeviationRenderer shade =
        new org.jfree.chart.renderer.xy.DeviationRenderer(false, false);
    shade.setAlpha(0.15f);
    for (int s = 0; s < bands.getSeriesCount(); s++) {
      shade.setSeriesFillPaint(s, PALETTE[s % PALETTE.length]);
      shade.setSeriesPaint(s, PALETTE[s % PALETTE.length]);
      shade.setSeriesVisibleInLegend(s, false);
    }
    plot.setDataset(1, bands);
    plot.setRenderer(1, shade);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
    AtomicFiles.writeBytes(file, png.toByteArray());
  }

  private static DecimalFormat rootFormat() {
    return new DecimalFormat("0", DecimalFormatSymbols.getInstance(Locale.ROOT));
  }
}
