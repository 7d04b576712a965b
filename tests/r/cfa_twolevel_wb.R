# Golden values for custval.CFA(cluster=...) with within-only and between-only
# variables (two-level CFA, lavaan 0.6-14).
#
# Run from the repository root:  Rscript tests/r/cfa_twolevel_wb.R
# Writes the simulated data as CSV fixtures and lavaan 0.6-14's results as JSON
# into tests/golden/cfa_twolevel/ (files wb_*; jsonlite, digits = NA).
#
# Data (simulated with known truth, below): items y1-y3 vary within and
# between firms; xw is a within-only item (a respondent-level item with no
# firm-level part: its firm means vary only by sampling); z is a between-only
# variable, constant within each firm (e.g. log firm size):
#   wb_balanced.csv   60 firms x 8 respondents, integer firm ids, rows shuffled
#   wb_unbalanced.csv 70 firms of 2 to 15 respondents, string firm ids, shuffled
# Models:
#   A (within-only):  level 1: fw =~ y1 + y2 + y3 + xw ; level 2: fb =~ y1 + y2 + y3
#   B (between-only): level 1: fw =~ y1 + y2 + y3      ; level 2: fb =~ y1 + y2 + y3 + z
#   C (both):         level 1: fw =~ y1 + y2 + y3 + xw ; level 2: fb =~ y1 + y2 + y3 + z
#   D (both, saturated between model): level 2: (co)variances of y1-y3 and z
#   E (between-only variable on its own): level 2: fb =~ y1 + y2 + y3 ; z ~~ z
# lavaan's conventions (lav_mvnorm_cluster_implied22l): a within-only
# variable has no between part (Sigma_B row 0) and its mean is its level-1
# intercept (free); a between-only variable enters the cluster-level
# likelihood jointly with the cluster means of the other items
# (lav_mvnorm_cluster_loglik_samplestats_2l).  The fit and the fully
# maximised H1 as in tests/r/cfa_twolevel.R: lavaan's default fit restarted
# with BFGS at reltol = 1e-16; the H1 maximised by BFGS over lavaan's own
# loglik (Cholesky factors of Sigma_W (level-1 variables) and Sigma_B
# (level-2 variables), the level-1 means of the within-only variables and the
# level-2 means).  Reliability: semTools 0.5-6 compRelSEM(obs.var = FALSE).
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_twolevel")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

truth <- list(
  lw = c(1, 0.8, 0.9, 0.7), psi_w = 1, theta_w = c(0.5, 0.5, 0.5, 0.6),
  lb = c(1, 0.9, 0.8, 0.6), psi_b = 0.4, theta_b = c(0.1, 0.1, 0.1, 0.5),
  nu = c(3, 3.2, 2.8), mu_xw = 2.5, mu_z = 4
)
simulate <- function(sizes, ids, seed) {
  set.seed(seed)
  nc <- length(sizes)
  fb <- rnorm(nc, 0, sqrt(truth$psi_b))
  ub <- matrix(rnorm(nc * 4), nc, 4) %*% diag(sqrt(truth$theta_b))
  yb <- outer(fb, truth$lb) + ub + matrix(c(truth$nu, truth$mu_z), nc, 4, byrow = TRUE)
  rows <- lapply(seq_len(nc), function(j) {
    n <- sizes[j]
    eta <- rnorm(n, 0, sqrt(truth$psi_w))
    e <- matrix(rnorm(n * 4), n, 4) %*% diag(sqrt(truth$theta_w))
    y <- outer(eta, truth$lw) + e
    y[, 1:3] <- y[, 1:3] + matrix(yb[j, 1:3], n, 3, byrow = TRUE)
    y[, 4] <- y[, 4] + truth$mu_xw
    data.frame(firm = rep(ids[j], n), y, z = yb[j, 4])
  })
  d <- do.call(rbind, rows)
  names(d) <- c("firm", "y1", "y2", "y3", "xw", "z")
  d[, 2:6] <- round(d[, 2:6], 6)
  d <- d[sample(nrow(d)), ]
  rownames(d) <- NULL
  d
}
balanced <- simulate(rep(8L, 60), sample(1000:9999, 60), 20263)
set.seed(8); usizes <- sample(2:15, 70, replace = TRUE)
unbalanced <- simulate(usizes, sprintf("firm_%03d", sample(1:200, 70)), 20264)
write.csv(balanced, file.path(out_dir, "wb_balanced.csv"), row.names = FALSE)
write.csv(unbalanced, file.path(out_dir, "wb_unbalanced.csv"), row.names = FALSE)
balanced <- read.csv(file.path(out_dir, "wb_balanced.csv"))
unbalanced <- read.csv(file.path(out_dir, "wb_unbalanced.csv"))

models <- list(
  A = "
level: 1
  fw =~ y1 + y2 + y3 + xw
level: 2
  fb =~ y1 + y2 + y3
",
  B = "
level: 1
  fw =~ y1 + y2 + y3
level: 2
  fb =~ y1 + y2 + y3 + z
",
  C = "
level: 1
  fw =~ y1 + y2 + y3 + xw
level: 2
  fb =~ y1 + y2 + y3 + z
",
  D = "
level: 1
  fw =~ y1 + y2 + y3 + xw
level: 2
  y1 ~~ y1 + y2 + y3 + z
  y2 ~~ y2 + y3 + z
  y3 ~~ y3 + z
  z ~~ z
",
  E = "
level: 1
  fw =~ y1 + y2 + y3
level: 2
  fb =~ y1 + y2 + y3
  z ~~ z
")
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
  YLp <- fit@SampleStats@YLp[[1]]; Lp <- fit@Data@Lp[[1]]
  h1 <- lavInspect(fit, "h1")
  w_names <- rownames(h1$within$cov); b_names <- rownames(h1$firm$cov)
  w_only <- setdiff(w_names, b_names)
  pw <- length(w_names); pb <- length(b_names); pwo <- length(w_only)
  lo_w <- lower.tri(diag(pw), diag = TRUE); kw <- sum(lo_w)
  lo_b <- lower.tri(diag(pb), diag = TRUE); kb <- sum(lo_b)
  unpack <- function(t) {
    lw <- matrix(0, pw, pw); lb <- matrix(0, pb, pb); lw[lo_w] <- t[1:kw]; lb[lo_b] <- t[kw + 1:kb]
    muw <- setNames(rep(0, pw), w_names); muw[w_only] <- t[kw + kb + seq_len(pwo)]
    list(sw = tcrossprod(lw), sb = tcrossprod(lb), muw = unname(muw), mub = t[kw + kb + pwo + 1:pb])
  }
  nll <- function(t) {
    u <- unpack(t)
    v <- lavaan:::lav_mvnorm_cluster_loglik_samplestats_2l(YLp = YLp, Lp = Lp, Mu.W = u$muw,
      Sigma.W = u$sw, Mu.B = u$mub, Sigma.B = u$sb, log2pi = TRUE, minus.two = FALSE)
    if (!is.finite(v)) 1e10 else -v
  }
  t0 <- c(t(chol(h1$within$cov))[lo_w], t(chol(h1$firm$cov))[lo_b], h1$within$mean[w_only], h1$firm$mean)
  for (r in 1:3) {
    op <- optim(t0, nll, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L, ndeps = rep(1e-5, length(t0))))
    t0 <- op$par
  }
  u <- unpack(op$par)
  list(
    model = model,
    lavaan_version = as.character(packageVersion("lavaan")),
    nobs = lavInspect(fit, "nobs"),
    nclusters = length(unique(data$firm)),
    converged = lavInspect(fit, "converged"),
    max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
    within_names = w_names, between_names = b_names,
    pe = cols(parameterEstimates(fit, standardized = TRUE)),
    fit = as.list(setNames(as.numeric(fm), names(fm))),
    h1_em = list(logl = fm[["unrestricted.logl"]]),
    h1_full = list(logl = -op$value, sigma_w = unname(u$sw), sigma_b = unname(u$sb),
                   mu_w = unname(u$muw), mu_b = unname(u$mub)),
    chisq_full = 2 * (-op$value - fm[["logl"]]),
    implied = list(sigma_w = unname(lavInspect(fit, "implied")$within$cov),
                   sigma_b = unname(lavInspect(fit, "implied")$firm$cov),
                   mu_w = unname(lavInspect(fit, "implied")$within$mean),
                   mu_b = unname(lavInspect(fit, "implied")$firm$mean)),
    icc = as.list(lavInspect(fit, "icc")),
    r2 = lapply(lavInspect(fit, "r2"), as.list),
    # semTools::compRelSEM with model-implied variances (Geldhof et al. per level;
    # Lai's omega_B / IRR of the shared between factor)
    semtools_version = as.character(packageVersion("semTools")),
    omega_implied = lapply(compRelSEM(fit, obs.var = FALSE, return.df = FALSE), as.list),
    shared_implied = if ("fb" %in% lavNames(fit, "lv"))
      as.list(compRelSEM(fit, obs.var = FALSE, shared = "fb", return.df = FALSE)$shared$fb) else NULL,
    truth = truth
  )
}
runs <- list(wb_A_balanced = list(balanced, "A"), wb_A_unbalanced = list(unbalanced, "A"),
             wb_B_balanced = list(balanced, "B"), wb_B_unbalanced = list(unbalanced, "B"),
             wb_C_unbalanced = list(unbalanced, "C"), wb_D_unbalanced = list(unbalanced, "D"),
             wb_E_unbalanced = list(unbalanced, "E"))
for (nm in names(runs)) {
  res <- withCallingHandlers(case(runs[[nm]][[1]], models[[runs[[nm]][[2]]]]),
                             warning = function(w) stop("lavaan warned: ", conditionMessage(w)))
  res$model_name <- runs[[nm]][[2]]
  writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, paste0(nm, ".json")))
  cat(nm, ": npar", res$fit$npar, " df", res$fit$df, " chisq", res$fit$chisq, " chisq_full", res$chisq_full,
      " logl", res$fit$logl, " h1 gain", res$h1_full$logl - res$h1_em$logl, "\n")
}
