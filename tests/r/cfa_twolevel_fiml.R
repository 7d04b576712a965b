# Golden values for custval.CFA(cluster=..., missing="fiml") with level blocks:
# two-level CFA with missing answers by full-information ML (lavaan's missing = "ml").
#
# Run from the repository root:  Rscript tests/r/cfa_twolevel_fiml.R
# Writes the simulated data as CSV fixtures and lavaan 0.6-14's results as JSON
# into tests/golden/cfa_twolevel_fiml/ (jsonlite, digits = NA = full precision).
#
# Data: 6 items, two within-firm factors (fw1: y1-y3, fw2: y4-y6, r = .3) and
# one between-firm factor (fb: y1-y6), simulated with known truth (below):
# (the CSV rows are shuffled; lavaan is given them sorted by firm, see case())
#   mcar.csv  60 firms of 4 to 25 respondents, integer firm ids, rows shuffled,
#             each item missing completely at random (10% to 20% per item)
#   mar.csv   60 firms of 3 to 22 respondents, string firm ids ("firm_017"),
#             rows shuffled; y4-y6 missing more often when y1 (always answered
#             unless the whole row is empty) is high (missing at random), y2 and
#             y3 MCAR 10%; plus 4 empty rows (no answer at all) in existing
#             firms and one firm ("firm_999") whose 3 rows are all empty
#             (custval excludes the 7 empty rows and reports the firm)
#
# lavaan's ML for two-level models with missing data
# (lav_mvnorm_cluster_missing_loglik_samplestats_2l): the fit is lavaan's default
# (nlminb) restarted with BFGS at reltol = 1e-16 from its solution.  Standard
# errors: lavaan's defaults (information, h1.information saved in "options").
# lavaan 0.6-14's saturated (H1) model with missing two-level data is a
# Cholesky-parametrised unrestricted model fitted by nlminb with rel.tol = 1e-7
# (lav_h1_implied_logl), which stops a little short of the maximum; lavaan's own
# loglik function maximised by BFGS from that solution gives the fully
# maximised H1 ("h1_full") and the chi-square against it ("chisq_full"); the
# baseline (independence: diagonal Sigma_W and Sigma_B, free means) is
# maximised the same way ("baseline_full").
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_twolevel_fiml")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

truth <- list(
  lw = c(1, 0.8, 0.9, 1, 0.7, 0.85), phi_w = matrix(c(1, 0.3, 0.3, 1), 2), theta_w = rep(0.5, 6),
  lb = c(1, 0.9, 0.8, 0.7, 0.9, 1.1), psi_b = 0.4, theta_b = rep(0.05, 6),
  nu = c(3, 3.2, 2.8, 3.5, 3.1, 2.9)
)
simulate <- function(sizes, ids, seed) {
  set.seed(seed)
  nc <- length(sizes)
  lw <- cbind(c(truth$lw[1:3], 0, 0, 0), c(0, 0, 0, truth$lw[4:6]))
  fb <- rnorm(nc, 0, sqrt(truth$psi_b))
  ub <- matrix(rnorm(nc * 6), nc, 6) %*% diag(sqrt(truth$theta_b))
  yb <- outer(fb, truth$lb) + ub + matrix(truth$nu, nc, 6, byrow = TRUE)
  rows <- lapply(seq_len(nc), function(j) {
    n <- sizes[j]
    eta <- matrix(rnorm(n * 2), n, 2) %*% chol(truth$phi_w)
    e <- matrix(rnorm(n * 6), n, 6) %*% diag(sqrt(truth$theta_w))
    y <- eta %*% t(lw) + e + matrix(yb[j, ], n, 6, byrow = TRUE)
    data.frame(firm = rep(ids[j], n), y)
  })
  d <- do.call(rbind, rows)
  names(d) <- c("firm", paste0("y", 1:6))
  d[, 2:7] <- round(d[, 2:7], 6)
  d
}
# MCAR
set.seed(11); s1 <- sample(4:25, 60, replace = TRUE)
mcar <- simulate(s1, sample(1000:9999, 60), 20271)
rates <- c(0.10, 0.12, 0.14, 0.16, 0.18, 0.20)
for (k in 1:6) mcar[runif(nrow(mcar)) < rates[k], k + 1] <- NA
mcar <- mcar[sample(nrow(mcar)), ]
# MAR
set.seed(12); s2 <- sample(3:22, 60, replace = TRUE)
mar <- simulate(s2, sprintf("firm_%03d", sample(1:200, 60)), 20272)
pr <- plogis(-2.2 + 1.2 * (mar$y1 - mean(mar$y1)))
for (k in 5:7) mar[runif(nrow(mar)) < pr, k] <- NA
for (k in 3:4) mar[runif(nrow(mar)) < 0.10, k] <- NA
mar[c(5, 50, 300, 600), 2:7] <- NA
mar <- rbind(mar, data.frame(firm = "firm_999", y1 = NA, y2 = NA, y3 = NA, y4 = NA, y5 = NA, y6 = NA))
mar <- rbind(mar, mar[nrow(mar), ], mar[nrow(mar), ])
mar <- mar[sample(nrow(mar)), ]
rownames(mcar) <- NULL; rownames(mar) <- NULL
write.csv(mcar, file.path(out_dir, "mcar.csv"), row.names = FALSE, na = "")
write.csv(mar, file.path(out_dir, "mar.csv"), row.names = FALSE, na = "")
mcar <- read.csv(file.path(out_dir, "mcar.csv"))
mar <- read.csv(file.path(out_dir, "mar.csv"))

model <- "
level: 1
  fw1 =~ y1 + y2 + y3
  fw2 =~ y4 + y5 + y6
level: 2
  fb =~ y1 + y2 + y3 + y4 + y5 + y6
"
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
maximise <- function(nll, t0) {
  for (r in 1:3) {
    op <- optim(t0, nll, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L, ndeps = rep(1e-5, length(t0))))
    t0 <- op$par
  }
  op
}
case <- function(data, model, std.lv = FALSE) {
  # lavaan 0.6-14 with cluster= and missing = "ml" needs the rows sorted by cluster:
  # on the shuffled rows its optimiser stops at the start ('a solution has NOT been
  # found', NaN log-determinants); the likelihood does not depend on the row order
  # and without empty rows: with them (it drops them itself: 'some cases are empty
  # and will be ignored') the optimiser again stops ('a solution has NOT been
  # found'), and a firm whose rows are all empty still counts as a cluster
  n_csv <- nrow(data)
  data <- data[rowSums(!is.na(data[, -1])) > 0, ]
  data <- data[order(data$firm), ]
  fit0 <- cfa(model, data = data, cluster = "firm", missing = "ml", std.lv = std.lv)
  fit <- cfa(model, data = data, cluster = "firm", missing = "ml", std.lv = std.lv, start = fit0,
             optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L))
  fit@Options$start <- "default"
  if (!lavInspect(fit, "converged")) stop("not converged")
  fm <- fitMeasures(fit)
  # lavaan's own loglik with missing data, for the fully maximised H1 and baseline
  g <- 1
  ll <- function(sw, sb, mu) lavaan:::lav_mvnorm_cluster_missing_loglik_samplestats_2l(
    Y1 = fit@Data@X[[g]], Y2 = fit@SampleStats@YLp[[g]][[2]]$Y2, Lp = fit@Data@Lp[[g]],
    Mp = fit@Data@Mp[[g]], Mu.W = rep(0, length(mu)), Sigma.W = sw, Mu.B = mu, Sigma.B = sb,
    loglik.x = fit@SampleStats@YLp[[g]][[2]]$loglik.x, log2pi = TRUE, minus.two = FALSE)
  h1 <- lavInspect(fit, "h1")
  p <- ncol(h1$within$cov); lo <- lower.tri(diag(p), diag = TRUE); k <- sum(lo)
  unpack <- function(t) {
    lw <- matrix(0, p, p); lb <- matrix(0, p, p); lw[lo] <- t[1:k]; lb[lo] <- t[k + 1:k]
    list(sw = tcrossprod(lw), sb = tcrossprod(lb), mu = t[2 * k + 1:p])
  }
  nll <- function(t) {
    u <- unpack(t)
    v <- tryCatch(ll(u$sw, u$sb, u$mu), error = function(e) NA_real_)
    if (!is.finite(v)) 1e10 else -v
  }
  mu0 <- h1$firm$mean + h1$within$mean
  op <- maximise(nll, c(t(chol(h1$within$cov))[lo], t(chol(h1$firm$cov))[lo], mu0))
  u <- unpack(op$par)
  full <- list(logl = -op$value, Sigma.W = u$sw, Sigma.B = u$sb, Mu.B = u$mu)
  nllb <- function(t) {
    v <- tryCatch(ll(diag(exp(t[1:p])), diag(exp(t[p + 1:p])), t[2 * p + 1:p]), error = function(e) NA_real_)
    if (!is.finite(v)) 1e10 else -v
  }
  opb <- maximise(nllb, c(log(diag(h1$within$cov)), log(diag(h1$firm$cov)), mu0))
  list(
    model = model,
    lavaan_version = as.character(packageVersion("lavaan")),
    nobs = lavInspect(fit, "nobs"),
    n_csv = n_csv,
    nclusters = lavInspect(fit, "nclusters"),
    converged = lavInspect(fit, "converged"),
    max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
    options = list(estimator = lavInspect(fit, "options")$estimator,
                   missing = lavInspect(fit, "options")$missing,
                   information = lavInspect(fit, "options")$information,
                   observed_information = lavInspect(fit, "options")$observed.information,
                   h1_information = lavInspect(fit, "options")$h1.information,
                   se = lavInspect(fit, "options")$se),
    pe = cols(parameterEstimates(fit, standardized = TRUE)),
    fit = as.list(setNames(as.numeric(fm), names(fm))),
    h1_lavaan = list(logl = fm[["unrestricted.logl"]],
                     sigma_w = unname(h1$within$cov), sigma_b = unname(h1$firm$cov),
                     mu_b = unname(mu0)),
    h1_full = list(logl = full$logl, sigma_w = unname(full$Sigma.W), sigma_b = unname(full$Sigma.B),
                   mu_b = unname(full$Mu.B)),
    chisq_full = 2 * (full$logl - fm[["logl"]]),
    baseline_full = list(logl = -opb$value, chisq = 2 * (full$logl + opb$value)),
    logl_at_est = ll(lavInspect(fit, "implied")$within$cov, lavInspect(fit, "implied")$firm$cov,
                     lavInspect(fit, "implied")$within$mean + lavInspect(fit, "implied")$firm$mean),
    truth = truth
  )
}
runs <- list(mcar = list(mcar, FALSE), mar = list(mar, FALSE), mar_stdlv = list(mar, TRUE))
for (nm in names(runs)) {
  res <- case(runs[[nm]][[1]], model, runs[[nm]][[2]])
  res$std_lv <- runs[[nm]][[2]]
  res$data <- if (startsWith(nm, "mcar")) "mcar.csv" else "mar.csv"
  writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, paste0(nm, ".json")))
  cat(nm, ": chisq", res$fit$chisq, " chisq_full", res$chisq_full, " logl", res$fit$logl,
      " h1", res$h1_lavaan$logl, res$h1_full$logl, " base", res$fit[["baseline.chisq"]], res$baseline_full$chisq, "\n")
  print(unlist(res$options))
}

# A within-only item (xw, named only at level 1) with missing answers: the
# unbalanced data of tests/r/cfa_twolevel_wb.R (70 firms, string ids) with 15% of
# y1-y3 and xw missing (MCAR), rows without an answer left out.  Estimates, SEs
# and logl; lavaan's H1 only as a lower bound.
wo <- read.csv(file.path("tests", "golden", "cfa_twolevel", "wb_unbalanced.csv"))
set.seed(5)
for (k in 2:5) wo[runif(nrow(wo)) < 0.15, k] <- NA
wo <- wo[rowSums(!is.na(wo[, 2:5])) > 0, c("firm", "y1", "y2", "y3", "xw")]
rownames(wo) <- NULL
write.csv(wo, file.path(out_dir, "within_only.csv"), row.names = FALSE, na = "")
wo <- read.csv(file.path(out_dir, "within_only.csv"))
model_wo <- "
level: 1
  fw =~ y1 + y2 + y3 + xw
level: 2
  fb =~ y1 + y2 + y3
"
wo_sorted <- wo[order(wo$firm), ]
fit0 <- cfa(model_wo, data = wo_sorted, cluster = "firm", missing = "ml")
fit <- cfa(model_wo, data = wo_sorted, cluster = "firm", missing = "ml", start = fit0,
           optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L))
# here BFGS stops without lavaan's convergence flag: lavaan's default fit is kept
# (nlminb, largest gradient saved: about 2.5e-6, so estimates agree to ~1e-5)
if (!lavInspect(fit, "converged")) fit <- fit0
if (!lavInspect(fit, "converged")) stop("not converged")
fm <- fitMeasures(fit)
res <- list(model = model_wo, data = "within_only.csv", std_lv = FALSE,
            lavaan_version = as.character(packageVersion("lavaan")),
            nobs = lavInspect(fit, "nobs"), n_csv = nrow(wo), nclusters = lavInspect(fit, "nclusters"),
            max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
            pe = cols(parameterEstimates(fit, standardized = TRUE)),
            fit = as.list(setNames(as.numeric(fm), names(fm))))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "within_only.json"))
cat("within_only: chisq", res$fit$chisq, " logl", res$fit$logl, " h1", res$fit[["unrestricted.logl"]], "\n")
