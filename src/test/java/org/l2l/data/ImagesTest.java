package org.l2l.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.l2l.UserError;

class ImagesTest {

    @TempDir
    Path dir;

    /** {@code labels.length} images of 2x1x3 whose values encode (image, value index). */
    private static Images small(int... labels) {
        float[] pixels = new float[labels.length * 6];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (i / 6) + (i % 6) / 10f;
        }
        return new Images(pixels, labels, labels.length, 2, 1, 3);
    }

    @Test
    void shapeAndToString() {
        Images images = small(1, 2, 3);
        assertEquals(6, images.imageSize());
        assertEquals("Images[count=3, height=2, width=1, channels=3]", images.toString());
        assertArrayEquals(new float[] {1f, 1.1f, 1.2f, 1.3f, 1.4f, 1.5f}, images.image(1));
    }

    @Test
    void constructorRejectsMismatchedArraysAndLabels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Images(new float[11], new int[2], 2, 2, 1, 3));
        assertEquals("arrays do not match 2 images of 2x1x3: 11 pixel values, 2 labels",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Images(new float[6], new int[] {10}, 1, 2, 1, 3));
        assertEquals("label 10 of image 0 is not 0..9", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Images(new float[0], new int[0], 0, 0, 1, 3));
        assertEquals("invalid shape: 0 images of 0x1x3", e.getMessage());
    }

    @Test
    void selectKeepsMatchingImagesInOrder() {
        Images images = small(3, 5, 3, 7, 5, 0);
        Images picked = images.select(List.of(5, 3));
        assertEquals(4, picked.count());
        assertArrayEquals(new int[] {3, 5, 3, 5}, picked.labels());
        assertArrayEquals(images.image(0), picked.image(0));
        assertArrayEquals(images.image(1), picked.image(1));
        assertArrayEquals(images.image(2), picked.image(2));
        assertArrayEquals(images.image(4), picked.image(3));
        assertEquals(4 * 6, picked.pixels().length);
        assertEquals(List.of(2, 1, 3), List.of(picked.height(), picked.width(),
                picked.channels()));
        assertSame(images, images.select(List.of(0, 3, 5, 7)), "nothing to drop");
    }

    @Test
    void emptySelectionIsAUserError() {
        UserError e = assertThrows(UserError.class, () -> small(3, 5).select(List.of(7)));
        assertEquals(UserError.class, e.getClass(), "a flag error, not a data file error");
        assertEquals("--labels 7: no images with these labels in 2 images", e.getMessage());
        e = assertThrows(UserError.class, () -> small(3, 5).select(List.of(7, 8), "the test set"));
        assertEquals("--labels 7,8: no images with these labels in the test set", e.getMessage());
    }

    @Test
    void labelsOutside0To9AreRejected() {
        UserError e = assertThrows(UserError.class, () -> small(3).select(List.of(3, 12)));
        assertEquals("--labels 3,12: labels must be 0..9", e.getMessage());
        e = assertThrows(UserError.class, () -> small(3).select(List.of()));
        assertEquals("--labels (empty): give at least one label 0..9", e.getMessage());
    }

    @Test
    void datasetSelectionNamesTheSplitWithoutImages() {
        ImageDataset d = new ImageDataset("cifar10", small(1, 2, 4), small(1, 1));
        ImageDataset two = d.select(List.of(2, 1));
        assertArrayEquals(new int[] {1, 2}, two.train().labels());
        assertArrayEquals(new int[] {1, 1}, two.test().labels());
        UserError e = assertThrows(UserError.class, () -> d.select(List.of(4)));
        assertEquals("--labels 4: no images with these labels in the cifar10 test set",
                e.getMessage());
        e = assertThrows(UserError.class, () -> d.select(List.of(9)));
        assertEquals("--labels 9: no images with these labels in the cifar10 training set",
                e.getMessage());
    }

    @Test
    void datasetSplitsMustHaveOneShape() {
        Images other = new Images(new float[6], new int[1], 1, 3, 2, 1);
        DataException e = assertThrows(DataException.class,
                () -> new ImageDataset("x", small(1), other));
        assertEquals("x: splits differ in image shape: train 2x1x3, test 3x2x1", e.getMessage());
    }

    @Test
    void mnistSplitBecomesOneChannelImagesSharingItsArrays() {
        float[] pixels = new float[2 * 28 * 28];
        pixels[28 * 28 + 3 * 28 + 5] = 0.5f;
        MnistData d = new MnistData(pixels, new int[] {4, 9}, 2, 28, 28);
        Images images = Images.of(d);
        assertEquals("Images[count=2, height=28, width=28, channels=1]", images.toString());
        assertSame(pixels, images.pixels());
        assertSame(d.labels(), images.labels());
        assertEquals(0.5f, images.pixels()[((1 * 28 + 3) * 28 + 5) * 1 + 0]);
        assertEquals(784, images.imageSize());
    }

    @Test
    void unknownDatasetNameIsAFlagError() {
        UserError e = assertThrows(UserError.class,
                () -> ImageDatasets.load("cifar100", dir, line -> { }));
        assertEquals("--dataset cifar100: must be one of cifar10, fashion-mnist, mnist",
                e.getMessage());
    }

    @Test
    void cifar10IsLoadedOncePerFolder() {
        CifarFiles.write(dir.resolve("c"), 2, 11);
        ImageDataset first = ImageDatasets.load("cifar10", dir.resolve("c"), line -> { });
        assertEquals(10, first.train().count());
        assertEquals("cifar10", first.name());
        assertSame(first, ImageDatasets.load("cifar10", dir.resolve("x/../c"), line -> { }));
        assertEquals(Arrays.asList(0, 1), Arrays.stream(first.test().labels()).boxed().toList());
    }

    @Test
    void namesAndDefaultFolders() {
        assertEquals(List.of("cifar10", "fashion-mnist", "mnist"), ImageDatasets.NAMES);
        assertEquals(Path.of("data", "fashion-mnist"), ImageDatasets.defaultDir("fashion-mnist"));
    }
}
