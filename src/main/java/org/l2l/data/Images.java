package org.l2l.data;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.l2l.UserError;

/**
 * Labelled images in memory, NHWC: the value of pixel (n, y, x, c) is at
 * {@code ((n * height + y) * width + x) * channels + c}, scaled to [0, 1] by dividing the byte
 * value by 255 (no mean subtraction).
 *
 * <p>Arrays are held as given, not copied, because CIFAR-10's training set is 614 MB of floats;
 * callers must not modify them.
 *
 * @param pixels   {@code count * height * width * channels} values in [0, 1]
 * @param labels   {@code count} class labels 0..{@value #NUM_CLASSES}-1
 * @param count    number of images
 * @param height   rows per image
 * @param width    columns per image
 * @param channels values per pixel (3 for RGB, 1 for grey)
 */
public record Images(float[] pixels, int[] labels, int count, int height, int width,
        int channels) {

    /** Labels are 0..NUM_CLASSES-1 in every data set here (CIFAR-10, MNIST, Fashion-MNIST). */
    public static final int NUM_CLASSES = 10;

    /** Validates that the shape is positive, the arrays match it and every label is 0..9. */
    public Images {
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        if (count < 0 || height <= 0 || width <= 0 || channels <= 0) {
            throw new IllegalArgumentException("invalid shape: " + count + " images of "
                    + height + "x" + width + "x" + channels);
        }
        if (pixels.length != (long) count * height * width * channels
                || labels.length != count) {
            throw new IllegalArgumentException("arrays do not match " + count + " images of "
                    + height + "x" + width + "x" + channels + ": " + pixels.length
                    + " pixel values, " + labels.length + " labels");
        }
        for (int i = 0; i < count; i++) {
            if (labels[i] < 0 || labels[i] >= NUM_CLASSES) {
                throw new IllegalArgumentException("label " + labels[i] + " of image " + i
                        + " is not 0.." + (NUM_CLASSES - 1));
            }
        }
    }

    /**
     * The images of one MNIST split (or Fashion-MNIST's), 28x28x1, sharing its pixel and label
     * arrays: MNIST's image-major, row-major layout is NHWC with one channel.
     */
    public static Images of(MnistData d) {
        return new Images(d.images(), d.labels(), d.count(), d.rows(), d.cols(), 1);
    }

    /** @return values per image, {@code height * width * channels} (3,072 for CIFAR-10) */
    public int imageSize() {
        return height * width * channels;
    }

    /**
     * The images whose label is one of {@code classes}, in their original order; the labels
     * are kept as they are (not renumbered).
     *
     * @param classes labels 0..9 to keep, as given with {@code --labels}
     * @return the selection; {@code this} if every image is kept
     * @throws UserError if a label is outside 0..9, or no image has any of them
     */
    public Images select(List<Integer> classes) {
        return select(classes, count + " images");
    }

    /**
     * As {@link #select(List)}, naming the images in the message.
     *
     * @param what what these images are, for the message, e.g. "the cifar10 training set"
     * @throws UserError "--labels 7: no images with these labels in WHAT" if none remain
     */
    public Images select(List<Integer> classes, String what) {
        String flag = "--labels";
        String value = classes.stream().map(String::valueOf).collect(Collectors.joining(","));
        if (classes.isEmpty()) {
            throw UserError.flag(flag, "(empty)", "give at least one label 0.."
                    + (NUM_CLASSES - 1));
        }
        boolean[] keep = new boolean[NUM_CLASSES];
        for (Integer c : classes) {
            if (c == null || c < 0 || c >= NUM_CLASSES) {
                throw UserError.flag(flag, value, "labels must be 0.." + (NUM_CLASSES - 1));
            }
            keep[c] = true;
        }
        int[] kept = new int[count];
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (keep[labels[i]]) {
                kept[n++] = i;
            }
        }
        if (n == 0) {
            throw UserError.flag(flag, value, "no images with these labels in " + what);
        }
        if (n == count) {
            return this;
        }
        int size = imageSize();
        float[] outPixels = new float[n * size];
        int[] outLabels = new int[n];
        for (int j = 0; j < n; j++) {
            int i = kept[j];
            System.arraycopy(pixels, i * size, outPixels, j * size, size);
            outLabels[j] = labels[i];
        }
        return new Images(outPixels, outLabels, outLabels.length, height, width, channels);
    }

    /**
     * @param index image index, 0 &lt;= index &lt; count
     * @return a copy of one image's values, HWC
     */
    public float[] image(int index) {
        Objects.checkIndex(index, count);
        float[] out = new float[imageSize()];
        System.arraycopy(pixels, index * imageSize(), out, 0, out.length);
        return out;
    }

    /** Summarises the shape; the default would print array identities. */
    @Override
    public String toString() {
        return "Images[count=" + count + ", height=" + height + ", width=" + width
                + ", channels=" + channels + "]";
    }
}
