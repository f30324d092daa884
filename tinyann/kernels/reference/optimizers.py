"""Optimizer updates, Keras 3's formulas, applied in place to a weight and its slots.

Each takes the weight ``w``, its gradient ``g`` (same shape), the learning rate and
the slot arrays (updated in place). Scalars are cast to the weight's dtype first,
as Keras computes in the variable's dtype. ``t = iterations + 1``. ``scratch`` (the
fast set's temporaries) is not used here.

    SGD        m = mu m - lr g;  w += m  (Nesterov: w += mu m - lr g);  no momentum: w -= lr g
    RMSprop    v = rho v + (1 - rho) g^2;  centered: a = rho a + (1 - rho) g, v' = v - a^2
               step = lr g / sqrt(v' + eps);  momentum: m = mu m + step, w -= m;  else w -= step
    Adam       alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
               m += (g - m)(1 - beta_1);  v += (g^2 - v)(1 - beta_2);  amsgrad: v = max(v_hat, v)
               w -= alpha m / (sqrt(v) + eps)
    Adamax     m += (g - m)(1 - beta_1);  u = max(beta_2 u, |g|)
               w -= lr m / ((1 - beta_1^t)(u + eps))
    Adagrad    acc += g^2;  w -= lr g / sqrt(acc + eps)
    Adadelta   a = rho a + (1 - rho) g^2;  d = -sqrt(s + eps) g / sqrt(a + eps)
               s = rho s + (1 - rho) d^2;  w += lr d
    Lion       w -= lr sign(beta_1 m + (1 - beta_1) g);  m = beta_2 m + (1 - beta_2) g
    Ftrl       n' = n + g^2;  z += g + 2 l2s w - (n'^-p - n^-p) / lr w   (p = learning_rate_power)
               w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 (l2 + beta / (2 lr)));  n = n'
    Lamb       m += (g - m)(1 - beta_1);  v += (g^2 - v)(1 - beta_2)
               u = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + eps)
               w -= (|w| / |u|) lr u   (norms over the whole weight; ratio 1 if either is 0)
    Adafactor  rho = min(lr, 1 / sqrt(t));  alpha = max(eps_2, rms(w)) rho
               g2 = g^2 + eps_1;  beta = 1 - t^beta_2_decay
               rank >= 2: r = beta r + (1 - beta) mean(g2, -1)
                          c = beta c + (1 - beta) mean(g2, -2)
                          v = (r / mean(r, -1))[..., None] c[..., None, :]
               else:      v = beta v + (1 - beta) g2
               u = g / sqrt(v);  w -= alpha u / max(1, rms(u) / clip_threshold)
    decay      w -= w * weight_decay * lr   (decoupled, AdamW and any optimizer)
"""

from __future__ import annotations

import numpy as np


def update_block(size):
    """How many of a model's ``size`` packed weights the optimizer updates at a time:
    here all of them, each formula one pass over the whole arrays."""
    return size


def weight_decay_update(w, lr, weight_decay):
    f = w.dtype.type
    w -= w * f(weight_decay) * f(lr)


def sgd_update(w, g, lr, m, momentum, nesterov, scratch=None):
    f = w.dtype.type
    lr, mu = f(lr), f(momentum)
    if m is None:
        w -= g * lr
        return
    m[...] = mu * m - g * lr
    if nesterov:
        w += mu * m - g * lr
    else:
        w += m


def rmsprop_update(w, g, lr, v, m, a, rho, momentum, epsilon, scratch=None):
    """``m`` is None without momentum, ``a`` None unless centered."""
    f = w.dtype.type
    rho, one_minus_rho, eps = f(rho), f(1.0 - rho), f(epsilon)
    v[...] = rho * v + one_minus_rho * (g * g)
    denominator = v + eps
    if a is not None:
        a[...] = rho * a + one_minus_rho * g
        denominator = v - a * a + eps
    step = g * f(lr) / np.sqrt(denominator)
    if m is not None:
        m[...] = f(momentum) * m + step
        w -= m
    else:
        w -= step


def adam_update(w, g, lr, m, v, v_hat, beta_1, beta_2, epsilon, t, scratch=None):
    """``v_hat`` is None unless amsgrad."""
    f = w.dtype.type
    alpha = f(lr) * np.sqrt(f(1) - f(beta_2) ** f(t)) / (f(1) - f(beta_1) ** f(t))
    m += (g - m) * f(1.0 - beta_1)
    v += (g * g - v) * f(1.0 - beta_2)
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    w -= (m * alpha) / (np.sqrt(v) + f(epsilon))


def nadam_update(w, g, lr, m, v, beta_1, beta_2, epsilon, t, u_product, scratch=None):
    """Nesterov Adam (Keras 3): with ``mu_t = beta_1 (1 - 0.5 * 0.96^t)`` and
    ``u_product`` = mu_1 ... mu_t,
    ``m_hat = mu_{t+1} m / (1 - u_product mu_{t+1}) + (1 - mu_t) g / (1 - u_product)``,
    ``w -= lr m_hat / (sqrt(v / (1 - beta_2^t)) + eps)``."""
    f = w.dtype.type
    mu_t = f(beta_1) * (f(1) - f(0.5) * f(0.96) ** f(t))
    mu_next = f(beta_1) * (f(1) - f(0.5) * f(0.96) ** f(t + 1))
    u_product = f(u_product)
    m += (g - m) * f(1.0 - beta_1)
    v += (g * g - v) * f(1.0 - beta_2)
    m_hat = (mu_next * m) / (f(1) - u_product * mu_next) + ((f(1) - mu_t) * g) / (
        f(1) - u_product)
    v_hat = v / (f(1) - f(beta_2) ** f(t))
    w -= (m_hat * f(lr)) / (np.sqrt(v_hat) + f(epsilon))


def adamax_update(w, g, lr, m, u, beta_1, beta_2, epsilon, t, scratch=None):
    f = w.dtype.type
    m += (g - m) * f(1.0 - beta_1)
    u[...] = np.maximum(u * f(beta_2), np.abs(g))
    w -= (m * f(lr)) / ((f(1) - f(beta_1) ** f(t)) * (u + f(epsilon)))


def adagrad_update(w, g, lr, acc, epsilon, scratch=None):
    f = w.dtype.type
    acc += g * g
    w -= g * f(lr) / np.sqrt(acc + f(epsilon))


def adadelta_update(w, g, lr, a, s, rho, epsilon, scratch=None):
    f = w.dtype.type
    rho, one_minus_rho, eps = f(rho), f(1.0 - rho), f(epsilon)
    a *= rho
    a += one_minus_rho * (g * g)
    delta = -(np.sqrt(s + eps) * g) / np.sqrt(a + eps)
    s *= rho
    s += one_minus_rho * (delta * delta)
    w += f(lr) * delta


def lion_update(w, g, lr, m, beta_1, beta_2, scratch=None):
    f = w.dtype.type
    w -= f(lr) * np.sign(m * f(beta_1) + g * f(1.0 - beta_1))
    m[...] = m * f(beta_2) + g * f(1.0 - beta_2)


def ftrl_update(w, g, lr, accumulator, linear, learning_rate_power, l1, l2, l2_shrinkage,
                beta, scratch=None):
    """``accumulator`` (n) and ``linear`` (z) in place; ``w`` set from them."""
    f = w.dtype.type
    lr, power = f(lr), f(-learning_rate_power)
    l2 = f(l2) + f(beta) / (f(2.0) * lr)
    new_accumulator = accumulator + g * g
    grad = g + f(2 * l2_shrinkage) * w
    linear += grad - (np.power(new_accumulator, power) - np.power(accumulator, power)) / lr * w
    quadratic = np.power(new_accumulator, power) / lr + f(2) * l2
    w[...] = (np.clip(linear, -f(l1), f(l1)) - linear) / quadratic
    accumulator[...] = new_accumulator


def lamb_update(w, g, lr, m, v, beta_1, beta_2, epsilon, t, scratch=None):
    """One weight at a time: the trust ratio is over all of ``w``."""
    f = w.dtype.type
    m += (g - m) * f(1.0 - beta_1)
    v += (g * g - v) * f(1.0 - beta_2)
    update = (m / (f(1) - f(beta_1) ** f(t))) / (
        np.sqrt(v / (f(1) - f(beta_2) ** f(t))) + f(epsilon))
    w_norm = np.sqrt(np.sum(w * w))
    u_norm = np.sqrt(np.sum(update * update))
    ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else f(1)
    w -= f(ratio) * f(lr) * update


def adafactor_update(w, g, lr, v, r, c, beta_2_decay, epsilon_1, epsilon_2, clip_threshold,
                     t, scratch=None):
    """One weight at a time (its RMS, and for rank >= 2 its row and column means):
    ``r`` (w.shape[:-1]) and ``c`` (w.shape[:-2] + w.shape[-1:]) are the factored second
    moments of a weight of rank >= 2, None otherwise; ``v`` (w's shape) the second
    moment used."""
    f = w.dtype.type
    t = f(t)
    rho = np.minimum(f(lr), f(1) / np.sqrt(t))
    alpha = np.maximum(f(epsilon_2), np.sqrt(np.mean(w * w))) * rho
    g2 = g * g + f(epsilon_1)
    beta = f(1) - t ** f(beta_2_decay)
    if r is not None:
        r[...] = beta * r + (f(1) - beta) * np.mean(g2, axis=-1)
        c[...] = beta * c + (f(1) - beta) * np.mean(g2, axis=-2)
        v[...] = (r / np.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
    else:
        v[...] = beta * v + (f(1) - beta) * g2
    u = g / np.sqrt(v)
    u_rms = np.sqrt(np.mean(u * u))
    w -= alpha * (u / np.maximum(f(1), u_rms / f(clip_threshold)))
