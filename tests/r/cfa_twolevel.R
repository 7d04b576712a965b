# Golden values for custval.CFA(cluster=...) with level blocks (two-level CFA).
#
# Run from the repository root:  Rscript tests/r/cfa_twolevel.R
# Writes the simulated data as CSV fixtures and lavaan 0.6-14's results as JSON
# into tests/golden/cfa_twolevel/ (jsonlite, digits = NA = full precision).
#
# Data: 6 items, two within-firm factors (fw1: y1-y3, fw2: y4-y6, r = .3) and
# one between-firm factor (fb: y1-y6), simulated with known truth (below):
#   balanced.csv   60 firms x 8 respondents, integer firm ids, rows shuffled
#   unbalanced.csv 70 firms of 2 to 15 respondents, string firm ids
#                  ("firm_017"), rows shuffled
#
# lavaan's ML for two-level models (lav_mvnorm_cluster_loglik_samplestats_2l):
# the fit is lavaan's default (nlminb) restarted with BFGS at reltol = 1e-16
# (nlminb's own tighter rel.tol stops with 'false convergence'; gradient saved).  Standard
# errors: information = "observed", h1.information = "structured" (lavaan's
# defaults for multilevel ML).  lavaan's saturated (H1) log-likelihood comes
# from lav_mvnorm_cluster_em_sat(tol = 1e-04) (hard-coded in
# lav_h1_implied_logl), which stops a little short of the maximum (the EM is
# slow near the maximum: even at tol = 1e-13 and 1e5 iterations it stays below
# it); lavaan's own loglik function maximised by BFGS gives the fully
# maximised H1 ("h1_full") and the chi-square against it ("chisq_full").
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_twolevel")
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
  d <- d[sample(nrow(d)), ]
  rownames(d) <- NULL
  d
}
balanced <- simulate(rep(8L, 60), sample(1000:9999, 60), 20261)
set.seed(7); usizes <- sample(2:15, 70, replace = TRUE)
unbalanced <- simulate(usizes, sprintf("firm_%03d", sample(1:200, 70)), 20262)
write.csv(balanced, file.path(out_dir, "balanced.csv"), row.names = FALSE)
write.csv(unbalanced, file.path(out_dir, "unbalanced.csv"), row.names = FALSE)
balanced <- read.csv(file.path(out_dir, "balanced.csv"))
unbalanced <- read.csv(file.path(out_dir, "unbalanced.csv"))

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
case <- function(data, model, std.lv = FALSE) {
  fit0 <- cfa(model, data = data, cluster = "firm", std.lv = std.lv)
  fit <- cfa(model, data = data, cluster = "firm", std.lv = std.lv, start = fit0, optim.method = "BFGS",
             control = list(reltol = 1e-16, maxit = 10000L))
  fit@Options$start <- "default"
  if (!lavInspect(fit, "converged")) stop("not converged")
  fm <- fitMeasures(fit)
  # the fully maximised H1: lavaan's own two-level loglik
  # (lav_mvnorm_cluster_loglik_samplestats_2l) maximised by BFGS over the
  # Cholesky factors of Sigma_W and Sigma_B and mu, from lavaan's EM solution
  YLp <- fit@SampleStats@YLp[[1]]; Lp <- fit@Data@Lp[[1]]
  h1 <- lavInspect(fit, "h1")
  p <- ncol(h1$within$cov); lo <- lower.tri(diag(p), diag = TRUE); k <- sum(lo)
  unpack <- function(t) {
    lw <- matrix(0, p, p); lb <- matrix(0, p, p); lw[lo] <- t[1:k]; lb[lo] <- t[k + 1:k]
    list(sw = tcrossprod(lw), sb = tcrossprod(lb), mu = t[2 * k + 1:p])
  }
  nll <- function(t) {
    u <- unpack(t)
    v <- lavaan:::lav_mvnorm_cluster_loglik_samplestats_2l(YLp = YLp, Lp = Lp, Mu.W = rep(0, p),
      Sigma.W = u$sw, Mu.B = u$mu, Sigma.B = u$sb, log2pi = TRUE, minus.two = FALSE)
    if (!is.finite(v)) 1e10 else -v
  }
  t0 <- c(t(chol(h1$within$cov))[lo], t(chol(h1$firm$cov))[lo], h1$firm$mean)
  for (r in 1:3) {
    op <- optim(t0, nll, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L, ndeps = rep(1e-5, length(t0))))
    t0 <- op$par
  }
  u <- unpack(op$par)
  full <- list(logl = -op$value, Sigma.W = u$sw, Sigma.B = u$sb, Mu.B = u$mu)
  h1 <- lavInspect(fit, "h1")
  list(
    model = model,
    lavaan_version = as.character(packageVersion("lavaan")),
    nobs = lavInspect(fit, "nobs"),
    nclusters = length(unique(data$firm)),
    converged = lavInspect(fit, "converged"),
    max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
    options = list(estimator = lavInspect(fit, "options")$estimator,
                   information = lavInspect(fit, "options")$information,
                   observed_information = lavInspect(fit, "options")$observed.information,
                   h1_information = lavInspect(fit, "options")$h1.information,
                   se = lavInspect(fit, "options")$se),
    pe = cols(parameterEstimates(fit, standardized = TRUE)),
    fit = as.list(setNames(as.numeric(fm), names(fm))),
    h1_em = list(logl = fm[["unrestricted.logl"]],
                 sigma_w = unname(h1$within$cov), sigma_b = unname(h1$firm$cov),
                 mu_b = unname(h1$firm$mean)),
    h1_full = list(logl = full$logl, sigma_w = unname(full$Sigma.W), sigma_b = unname(full$Sigma.B),
                   mu_b = unname(full$Mu.B)),
    chisq_full = 2 * (full$logl - fm[["logl"]]),
    icc = as.list(lavInspect(fit, "icc")),
    # Geldhof, Preacher & Zyphur (2014) omega per level (semTools::compRelSEM)
    semtools_version = as.character(packageVersion("semTools")),
    omega = lapply(compRelSEM(fit, return.df = FALSE), as.list),
    omega_implied = lapply(compRelSEM(fit, obs.var = FALSE, return.df = FALSE), as.list),
    truth = truth
  )
}
# a saturated between model (no between factor) and std.lv = TRUE
model_satb <- "
level: 1
  fw1 =~ y1 + y2 + y3
  fw2 =~ y4 + y5 + y6
level: 2
  y1 ~~ y1 + y2 + y3 + y4 + y5 + y6
  y2 ~~ y2 + y3 + y4 + y5 + y6
  y3 ~~ y3 + y4 + y5 + y6
  y4 ~~ y4 + y5 + y6
  y5 ~~ y5 + y6
  y6 ~~ y6
"
runs <- list(balanced = list(balanced, model, FALSE), unbalanced = list(unbalanced, model, FALSE),
             balanced_satb = list(balanced, model_satb, FALSE), unbalanced_stdlv = list(unbalanced, model, TRUE))
for (nm in names(runs)) {
  res <- case(runs[[nm]][[1]], runs[[nm]][[2]], runs[[nm]][[3]])
  res$std_lv <- runs[[nm]][[3]]
  writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, paste0(nm, ".json")))
  cat(nm, ": chisq", res$fit$chisq, " chisq_full", res$chisq_full, " logl", res$fit$logl, "\n")
}

# Lai's (2021) coefficients (semTools::compRelSEM config= / shared=): a configural
# construct (the same factor name and indicators at both levels) and a shared one
# (the between factor of the main model), on the balanced data
model_config <- "
level: 1
  f =~ y1 + y2 + y3
level: 2
  f =~ y1 + y2 + y3
"
fc <- cfa(model_config, data = balanced, cluster = "firm")
fs <- cfa(model, data = balanced, cluster = "firm")
lai <- list(
  model_config = model_config, model_shared = model,
  config_fitted = as.list(suppressWarnings(compRelSEM(fc, config = "f", obs.var = FALSE, return.df = FALSE))$config$f),
  config_obs = as.list(suppressWarnings(compRelSEM(fc, config = "f", return.df = FALSE))$config$f),
  shared_fitted = as.list(compRelSEM(fs, shared = "fb", obs.var = FALSE, return.df = FALSE)$shared$fb),
  shared_obs = as.list(compRelSEM(fs, shared = "fb", return.df = FALSE)$shared$fb)
)
writeLines(toJSON(lai, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "omega_lai.json"))
