# ruff: noqa  (the notes' code as written: notebook style, not this project's)
# Seed 003 ("Deep Learning / Neural Network 실습"): the note's code listings, in order,
# as one script.
#
#   tinyann run examples/seeds/seed_003.py
#
# Changes, only where the note cannot run anywhere (each marked FIX below):
# - the output lines the note pastes into listings 1 and 4 are commented out: as code,
#   `(60000, 28, 28) (60000,)` calls a tuple and `375/375 [===...` is a syntax error.
# - listing 3 splits train_scaled, which this note never defines; the minimal cell that
#   does, from the same textbook chapter (seed 002), is inserted before it.

# %% listing 1: Fashion MNIST 데이터 준비
import tensorflow as tf

tf.keras.utils.set_random_seed(42)
tf.config.experimental.enable_op_determinism()

from tensorflow import keras

(train_input, train_target), (test_input, test_target) = keras.datasets.fashion_mnist.load_data()

print(train_input.shape, train_target.shape)
print(test_input.shape, test_target.shape)

# FIX: output pasted into the listing, commented out:
# (60000, 28, 28) (60000,)
# (10000, 28, 28) (10000,)

# %% listing 2: 10개의 Class
import matplotlib.pyplot as plt

fig, axs = plt.subplots(1, 10, figsize=(10,10))
for i in range(10):
    axs[i].imshow(train_input[i], cmap='gray_r')
    axs[i].axis('off')
plt.show()

# %% FIX: not in this note. Listing 3 splits train_scaled; this is the cell that makes
# it in the same chapter (seed 002's listing).
train_scaled = train_input / 255.0
train_scaled = train_scaled.reshape(-1, 28*28)

# %% listing 3: Artifical Neural Network으로 패션 아이템 분리하기
import tensorflow as tf
from tensorflow import keras

from sklearn.model_selection import train_test_split

train_scaled, val_scaled, train_target, val_target = train_test_split(
    train_scaled, train_target, test_size=0.2, random_state=42)

dense = keras.layers.Dense(10, activation='softmax', input_shape=(784,))
model = keras.Sequential(dense)

model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')
model.fit(train_scaled, train_target, epochs=5, verbose=1) 

# %% listing 4: 결과
model.evaluate(val_scaled, val_target)

# FIX: output pasted into the listing, commented out:
# 375/375 [==============================] - 0s 611us/step - loss: 0.4422 - accuracy: 0.8506
# [0.44223520159721375, 0.8505833148956299]
