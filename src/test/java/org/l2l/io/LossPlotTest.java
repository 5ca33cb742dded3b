package org.l2l.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossPlotTest {

  private static final int STEPS = 100;
  private static final int WHITE = 0xFFFFFF;
  private static final int FIRST_COLOUR = 0x1f77b4;

  @TempDir Path dir;

  /** Curves shaped like Fig. 4 of the paper, plus a broken one. */
  private static Map<String, double[]> curves() {
    Random rnd = new Random(42);
    Map<String, double[]> curves = new LinkedHashMap<>();
    String[] names = {"ADAM", "RMSprop", "SGD", "NAG", "LSTM"};
    double[] rates = {0.03, 0.035, 0.01, 0.02, 0.08};
    for (int c = 0; c < names.length; c++) {
      double[] y = new double[STEPS];
      for (int i = 0; i < STEPS; i++) {
        y[i] = 50 * Math.exp(-rates[c] * i) * (1 + 0.2 * rnd.nextGaussian() * 0.5) + 0.05;
      }
      curves.put(names[c], y);
    }
    // Zeros, negatives, NaN and infinities cannot be drawn on a log axis; they must be skipped.
    double[] broken = new double[STEPS];
    for (int i = 0; i < STEPS; i++) {
      broken[i] = 30 * Math.exp(-0.05 * i);
    }
    broken[0] = 0;
    broken[10] = Double.NaN;
    broken[11] = -1;
    broken[40] = Double.POSITIVE_INFINITY;
    for (int i = 70; i < STEPS; i++) {
      broken[i] = Double.NaN;
    }
    curves.put("diverged", broken);
    return curves;
  }

  @Test
  void writesPngOfTheRequestedSizeDespiteUndrawableValues() throws IOException {
    Path file = dir.resolve("plots/loss.png");
    LossPlot.writePng(file, "Quadratic functions", curves(), "step", "loss");

    BufferedImage img = ImageIO.read(file.toFile());
    assertNotNull(img, "not a readable image");
    assertEquals(900, img.getWidth());
    assertEquals(600, img.getHeight());
    assertEquals(WHITE, img.getRGB(0, 0) & WHITE, "white background");
    assertTrue(countPixels(img, FIRST_COLOUR) > 100, "the first curve is drawn");
    try (Stream<Path> s = Files.list(file.getParent())) {
      assertEquals(List.of("loss.png"),
          s.map(p -> p.getFileName().toString()).collect(Collectors.toList()));
    }
    // Kept under target/ so the figure can be inspected by eye after a build.
    Path inspect = Path.of("target", "test-output", "loss-plot.png");
    Files.createDirectories(inspect.getParent());
    Files.copy(file, inspect, StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void curvesWithNothingDrawableDoNotCrash() throws IOException {
    Map<String, double[]> curves = new LinkedHashMap<>();
    curves.put("all zero", new double[] {0, 0, 0});
    curves.put("all NaN", new double[] {Double.NaN});
    curves.put("empty", new double[0]);
    Path file = dir.resolve("empty.png");
    LossPlot.writePng(file, "", curves, "step", "loss");
    BufferedImage img = ImageIO.read(file.toFile());
    assertEquals(900, img.getWidth());
    assertEquals(600, img.getHeight());
  }

  private static int countPixels(BufferedImage img, int rgb) {
    int n = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if ((img.getRGB(x, y) & WHITE) == rgb) {
          n++;
        }
      }
    }
    return n;
  }
}
