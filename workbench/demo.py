"""A small, real demo for a fresh install: logistic regression trained with numpy
on a synthetic churn-like dataset, a learning-rate x L2 grid, every run tracked."""

from __future__ import annotations

import numpy as np
import pandas as pd

import workbench as wb

EXPERIMENT = "demo-churn"


def _data(rng: np.random.Generator, n: int = 2000) -> pd.DataFrame:
    tenure = rng.gamma(2.0, 12.0, n)
    charges = rng.normal(70, 20, n)
    tickets = rng.poisson(1.5, n)
    logit = -1.5 - 0.05 * tenure + 0.02 * (charges - 70) + 0.6 * tickets
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"tenure": tenure, "charges": charges, "tickets": tickets, "churned": churned.astype(int)})


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    order = np.argsort(score)
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    pos = y == 1
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))


def seed(*, epochs: int = 60) -> int:
    """Create the demo experiment's runs unless they exist; returns how many runs were made."""
    existing = [e for e in wb.list_experiments() if e.name == EXPERIMENT]
    if existing and existing[0].run_count:
        return 0
    wb.set_experiment(EXPERIMENT)
    rng = np.random.default_rng(7)
    df = _data(rng)
    train, valid = df.iloc[:1500], df.iloc[1500:]
    features = ["tenure", "charges", "tickets"]
    mu, sd = train[features].mean(), train[features].std()
    x_train = ((train[features] - mu) / sd).to_numpy()
    x_valid = ((valid[features] - mu) / sd).to_numpy()
    y_train, y_valid = train["churned"].to_numpy(), valid["churned"].to_numpy()
    made = 0
    for lr in (0.01, 0.05, 0.2, 0.5):
        for l2 in (0.0, 0.01, 0.1):
            with wb.start_run(name=f"logreg-lr{lr}-l2{l2}", tags={"model": "logreg", "demo": "yes"}):
                wb.log_params({"lr": lr, "l2": l2, "epochs": epochs, "features": ",".join(features)})
                wb.log_dataset(train, name="churn-train", source="workbench.demo")
                w, b = np.zeros(len(features)), 0.0
                for epoch in range(epochs):
                    p = 1 / (1 + np.exp(-(x_train @ w + b)))
                    grad_w = x_train.T @ (p - y_train) / len(y_train) + l2 * w
                    w -= lr * grad_w
                    b -= lr * float(np.mean(p - y_train))
                    eps = 1e-9
                    loss = float(-np.mean(y_train * np.log(p + eps) + (1 - y_train) * np.log(1 - p + eps)))
                    valid_score = x_valid @ w + b
                    wb.log_metrics({"train_loss": loss, "valid_auc": _auc(y_valid, valid_score)}, step=epoch)
                wb.log_text(pd.Series(w, index=features).to_string(), "coefficients.txt")
            made += 1
    return made
