# Golden values for custval.validity.composite_reliability (and ave) on a CFA fit with ordered
# and continuous items together (lavaan 0.6-14 cfa(..., ordered = <some items>), WLSMV).
#
# What semTools 0.5-6 compRelSEM does with such a fit (single-level models): a factor whose
# indicators are all ordered gets the categorical omega (Green & Yang, 2009; omegaCat, with
# ord.scale = TRUE) or, with ord.scale = FALSE, the latent-response omega; a factor whose
# indicators are all continuous gets the continuous omega (sum of the loadings squared times
# the factor variance over the sum of the indicators' sample covariance matrix, obs.var = TRUE;
# model-implied with obs.var = FALSE), whatever ord.scale; a factor with both kinds of
# indicators is NA, silently (the message "Composite reliability (omega) cannot be computed
# for factors with mixed categorical and continuous indicators" is only reached for multilevel
# models).  semTools::AVE treats every factor alike (common variance over the trace of the
# sample covariance matrix with the ordered items' latent responses at variance 1).
#
# Run from the repository root:  Rscript tests/r/ordinal_mixed_reliability.R [name ...]
# Writes tests/golden/cfa_ordinal_mixed/reliability_*.json and the simulated fixture
# tests/golden/cfa_ordinal_mixed/satisfaction_waves.csv: a two-wave customer satisfaction
# survey, five-point items q1..q5 (service S: q1-q3; loyalty L: q4, q5 with the 0-10
# recommendation score nps) and three continuous value ratings v1..v3 (0-100 sliders, V).
# Each fit is restarted from nlminb's solution with lavaan's Gauss-Newton optimizer (kept when
# its gradient is smaller), as tests/r/cfa_ordinal_mixed.R does.
# Reference: lavaan 0.6-14, semTools 0.5-6.
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

only <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(only) == 0L || name %in% only
out_dir <- file.path("tests", "golden", "cfa_ordinal_mixed")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
save <- function(x, name) {
  write_json(x, file.path(out_dir, paste0(name, ".json")), digits = NA,
             auto_unbox = TRUE, pretty = FALSE, na = "null")
}
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
as_list <- function(x) {
  if (is.data.frame(x)) return(cols(x))
  as.list(unclass(x))
}

fit_gn <- function(model, data, ...) {
  fit <- cfa(model, data = data, ...)
  g1 <- max(abs(lavInspect(fit, "gradient")))
  gn <- try(suppressWarnings(cfa(model, data = data, start = fit, optim.method = "GN",
                                 optim.gn.tol.x = 1e-12, ...)), silent = TRUE)
  if (!inherits(gn, "try-error") && isTRUE(lavInspect(gn, "converged")) &&
      max(abs(lavInspect(gn, "gradient"))) < g1) fit <- gn
  fit
}

case <- function(name, model, data, ordered, group = NULL) {
  if (!want(name)) return(invisible(NULL))
  fit <- fit_gn(model, data, ordered = ordered, estimator = "WLSMV", group = group)
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    semtools_version = as.character(packageVersion("semTools")),
    model = model, ordered = ordered, group = if (is.null(group)) "" else group,
    max_abs_gradient = max(abs(lavInspect(fit, "gradient"))),
    params = cols(parameterEstimates(fit)),
    compRelSEM = as_list(compRelSEM(fit)),
    compRelSEM_latent = as_list(compRelSEM(fit, ord.scale = FALSE)),
    compRelSEM_implied = as_list(compRelSEM(fit, obs.var = FALSE)),
    AVE = as_list(AVE(fit)),
    AVE_implied = as_list(AVE(fit, obs.var = FALSE))
  )
  save(out, name)
  cat(name, "\n"); print(compRelSEM(fit)); print(compRelSEM(fit, ord.scale = FALSE)); print(AVE(fit))
  invisible(fit)
}

# ---------------------------------------------------------------- simulated two-wave survey
sim_file <- file.path(out_dir, "satisfaction_waves.csv")
if (!file.exists(sim_file)) {
  set.seed(20261207)
  make <- function(n, wave, shift) {
    phi <- matrix(c(1, .5, .4, .5, 1, .45, .4, .45, 1), 3)
    eta <- MASS::mvrnorm(n, c(shift, shift, 0), phi)
    d <- data.frame(wave = rep(wave, n))
    cuts <- c(-2.0, -1.2, -0.3, 0.7)  # ceiling: most answers 4 and 5
    lam <- c(.8, .75, .7, .75, .7)
    fac <- c(1, 1, 1, 2, 2)
    for (j in 1:5) {
      ystar <- lam[j] * eta[, fac[j]] + sqrt(1 - lam[j]^2) * rnorm(n)
      d[[paste0("q", j)]] <- findInterval(ystar, cuts) + 1L
    }
    d$nps <- pmin(10L, pmax(0L, as.integer(round(7.5 + 1.6 * eta[, 2] + rnorm(n, sd = 1.3)))))
    for (j in 1:3) {
      d[[paste0("v", j)]] <- round(pmin(100, pmax(0, 60 + c(14, 12, 10)[j] * eta[, 3] +
                                                    rnorm(n, sd = c(9, 10, 11)[j]))))
    }
    d
  }
  sim <- rbind(make(520, "2025-Q4", 0), make(480, "2026-Q2", 0.2))
  write.csv(sim, sim_file, row.names = FALSE)
}
sim <- read.csv(sim_file)
m_sat <- "S =~ q1 + q2 + q3\nL =~ q4 + q5 + nps\nV =~ v1 + v2 + v3"
ord_sat <- paste0("q", 1:5)
case("reliability_satisfaction", m_sat, sim, ord_sat)
case("reliability_satisfaction_waves", m_sat, sim, ord_sat, group = "wave")

# ---------------------------------------------------------------- bfi, reverse-worded items keyed
bfi <- raw("bfi")
ace <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5))
bfi_k <- bfi[complete.cases(bfi[, ace]), c(ace, "gender")]
for (v in c("A1", "C4", "C5", "E1", "E2")) bfi_k[[v]] <- 7L - bfi_k[[v]]  # 1..6 -> 6..1
m_ace <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\nE =~ E1 + E2 + E3 + E4 + E5"
ord_ace <- c(paste0("A", 1:5), "E1", "E2")  # A all ordered, C all continuous, E mixed
case("reliability_bfi", m_ace, bfi_k, ord_ace)
