# ruff: noqa  (the notes' code as written: notebook style, not this project's)
# Seed 000 ("인공 신경망 / 패션 MNIST"): the note's code listings, in order, as one script.
#
#   tinyann run examples/seeds/seed_000.py
#
# Changes, only where the note cannot run anywhere (each marked FIX below):
# - listing 4 has `input_shape(784,)`, a syntax error; `input_shape=(784,)` is meant.
# - listing 5 uses train_scaled / val_scaled / val_target, which this note never
#   defines; the minimal cells that do, from the same textbook chapter (seed 002), are
#   inserted before it.

# %% listing 1: MNIST 데이터 다운, 그림 출력
# MNIST 데이터 다운
from tensorflow import keras
(train_input,train_target), (test_input,test_target)=\
  keras.datasets.fashion_mnist.load_data()
# 그림 출력
import matplotlib.pyplot as plt
fig, axs = plt.subplots(1, 10, figsize=(10, 10))
for i in range(10):
  axs[i].imshow(train_input[i], cmap='gray_r')
  axs[i].axis('off')
plt.show()

# %% listing 2: 레이블 당 샘플 개수
# 레이블 당 샘플 개수
import numpy as np
print(np.unique(train_target, return_counts=True))

# %% listing 3: 텐서플로와 케라스
# 텐서플로
import tensorflow as tf
# 케라스
from tensorflow import keras

# %% listing 4: 인공신경망으로 모델 만들기
# 밀집층
# FIX: the note writes `input_shape(784,)` (a syntax error); `input_shape=(784,)` is meant.
dense = keras.layers.Dense(10, activation='softmax', input_shape=(784,))
# 신경망 모델
model = keras.Sequential([dense])

# %% FIX: not in this note. Listing 5 needs train_scaled, val_scaled and val_target;
# these are the cells that make them in the same chapter (seed 002's listing).
train_scaled = train_input / 255.0
train_scaled = train_scaled.reshape(-1, 28*28)
from sklearn.model_selection import train_test_split
train_scaled, val_scaled, train_target, val_target = train_test_split(
    train_scaled, train_target, test_size=0.2, random_state=42)

# %% listing 5: 분류 by 인공 신경망
# 컴파일
model.compile(loss='sparse_categorical_crossentropy', metrics=['accuracy'])
# 훈련
model.fit(train_scaled, train_target, epochs=5)
# 성능 평가
model.evaluate(val_scaled, val_target)
