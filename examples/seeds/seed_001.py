# ruff: noqa  (the notes' code as written: notebook style, not this project's)
# Seed 001 ("[chap 7-1] 인공 신경망"): the note's code listings, in order, as one script.
#
#   tinyann run examples/seeds/seed_001.py
#
# Changes, only where the note cannot run anywhere (each marked FIX below):
# - listing 2 splits train_scaled, which this note never defines; the minimal cell
#   that does, from the same textbook chapter (seed 002), is inserted before it.
# - the output the note prints after `>>>` inside listings is kept as comments.

# %% listing 1: 패션 MNIST 데이터셋
from tensorflow import keras
(train_input, train_target), (test_input, test_target) = keras.datasets.fashion_mnist.load_data()

print(train_input.shape, train_target.shape) # (60000, 28, 28) (60000,)
print(test_input.shape, test_target.shape) # (10000, 28, 28) (10000,)

import matplotlib.pyplot as plt
fig, axs = plt.subplots(1, 10, figsize=(10, 10))
for i in range(10):
  axs[i].imshow(train_input[i], cmap='gray_r')
  axs[i].axis('off')
plt.show()

# %% FIX: not in this note. Listing 2 splits train_scaled; this is the cell that makes
# it in the same chapter (seed 002's listing).
train_scaled = train_input / 255.0
train_scaled = train_scaled.reshape(-1, 28*28)

# %% listing 2: 검증 세트 덜어내기
import tensorflow as tf
from tensorflow import keras
from sklearn.model_selection import train_test_split

train_scaled, val_scaled, train_target, val_target = train_test_split(train_scaled, train_target, test_size=0.2, random_state=42)
print(train_scaled.shape, train_target.shape)
print(val_scaled.shape, val_scaled.shape)

# FIX: the note's output, kept as comments (the author had run the split cell twice):
# >>>
# (38400, 784) (38400,)
# (9600, 784) (9600, 784)

# %% listing 3: 밀집층
dense = keras.layers.Dense(10, activation='softmax', input_shape=(784, ))

# %% listing 4: 밀집층을 가진 신경망 모델
model = keras.Sequential(dense)

# %% listing 5: compile, fit
model.compile(loss='sparse_categorical_crossentropy', metrics='accuracy')

model.fit(train_scaled, train_target, epochs=5)

# FIX: the note's output, kept as comments:
# >>>
# Epoch 1/5
# 1500/1500 [==============================] - 7s 3ms/step - loss: 0.6082 - accuracy: 0.7943
# Epoch 2/5
# 1500/1500 [==============================] - 4s 3ms/step - loss: 0.4785 - accuracy: 0.8390
# Epoch 3/5
# 1500/1500 [==============================] - 4s 3ms/step - loss: 0.4564 - accuracy: 0.8475
# Epoch 4/5
# 1500/1500 [==============================] - 4s 3ms/step - loss: 0.4447 - accuracy: 0.8520
# Epoch 5/5
# 1500/1500 [==============================] - 4s 3ms/step - loss: 0.4381 - accuracy: 0.8553
# <keras.callbacks.History at 0x7f0a80652890>

# %% listing 6: 케라스에서 모델 성능 평가
model.evaluate(val_scaled, val_target)

# FIX: the note's output, kept as comments:
# 375/375 [==============================] - 1s 3ms/step - loss: 0.4402 - accuracy: 0.8511
# [0.44022828340530396, 0.8510833382606506]
