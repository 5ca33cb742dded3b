package org.l2l.data;

import java.util.List;
import java.util.Objects;

/**
 * An image classification data set: its training and test splits.
 *
 * @param name  the name it is chosen by ({@link ImageDatasets#NAMES}), e.g. "cifar10"
 * @param train the training split
 * @param test  the test split
 */
public record ImageDataset(String name, Images train, Images test) {

    /** Validates that both splits are present and have the same image shape. */
    public ImageDataset {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
        if (train.height() != test.height() || train.width() != test.width()
                || train.channels() != test.channels()) {
            throw new DataException(name + ": splits differ in image shape: train "
                    + shape(train) + ", test " + shape(test));
        }
    }

    /**
     * Both splits restricted to the images whose label is one of {@code classes}
     * ({@link Images#select(List, String)}).
     *
     * @throws org.l2l.UserError if a label is outside 0..9 or a split has none of them
     */
    public ImageDataset select(List<Integer> classes) {
        return new ImageDataset(name, train.select(classes, "the " + name + " training set"),
                test.select(classes, "the " + name + " test set"));
    }

    private static String shape(Images images) {
        return images.height() + "x" + images.width() + "x" + images.channels();
    }
}
