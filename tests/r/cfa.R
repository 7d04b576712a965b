# Golden values for custval.cfa (lavaan CFA: ML, MLR, FIML, multi-group).
#
# Run from the repository root:  Rscript tests/r/cfa.R [file ...]
# Writes tests/golden/cfa/*.json (jsonlite, digits = NA = full precision);
# with arguments only the named files (e.g. `Rscript tests/r/cfa.R constraints`).
#
# Reference: lavaan 0.6-14 (Debian r-cran-lavaan).  Every fit uses lavaan's
# defaults for cfa() unless stated (ML: expected information, N in the
# denominator of the sample covariance; MLR: observed information, Huber-White
# sandwich, Yuan-Bentler-Mplus scaled test; missing = "ml" is FIML).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

only <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(only) == 0L || name %in% only
out_dir <- file.path("tests", "golden", "cfa")
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
mat <- function(m) {
  m <- unclass(m)
  list(names = rownames(m), values = unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ]))))
}
# lavaan's default optimizer (nlminb, rel.tol = 1e-10) can stop short of the
# optimum: in the two-group HS39 model the default fit has a gradient of
# 1.7e-6 and loadings up to 1.6e-5 away from the minimum (tightening nlminb's
# tolerances only makes it report false convergence).  The golden values for
# complete data therefore use lavaan's own Gauss-Newton optimizer run to
# convergence (optim.method = "GN", optim.gn.tol.x = 1e-12): same model, same
# estimator, gradient ~1e-11.  FIML fits, models with equality constraints
# and models where GN fails from lavaan's start values (mobi) are fitted with
# the default optimizer and then restarted from that solution (GN where it
# applies, else BFGS with reltol = 1e-16); the restart is kept when it
# converges with a gradient at least ten times smaller.  Every case saves the
# optimizer used and its max |gradient| (optimizer, max_abs_gradient; the
# gradient in lavaan's optimizer parameters, i.e. after equality constraints);
# the tests compare at the accuracy that gradient allows.
#
# `at`: a lavaan fit whose estimates are the solution; lavaan then only
# evaluates `model` there (optim.method = "none": standard errors, tests and
# fit measures at those estimates).  Used for inequality constraints, where
# lavaan's constrained optimizer (nlminb.constr) stops ~1e-5 short: the
# solution is the GN fit of the same model with the active inequality written
# as an equality.
case <- function(model, data, ..., mi = TRUE, at = NULL) {
  args <- list(...)
  optimizer <- "nlminb (default)"
  fit <- NULL
  baseline <- NULL
  if (!is.null(at)) {
    fit <- cfa(model, data = data, ..., start = at, optim.method = "none")
    optimizer <- "none: evaluated at the GN fit of the active-set equality model"
    fit@Options$start <- "default"
  }
  # GN is used only without equality constraints (with group.equal it stops at
  # a wrong point in lavaan 0.6-14)
  if (is.null(fit) && !identical(args$missing, "ml") && is.null(args$group.equal)) {
    fit <- suppressWarnings(cfa(model, data = data, ..., optim.method = "GN",
                                optim.gn.tol.x = 1e-12, optim.gn.iter.max = 1000L))
    optimizer <- "GN (optim.gn.tol.x = 1e-12)"
    if (!lavInspect(fit, "converged")) fit <- NULL  # GN does not handle every model
  }
  if (is.null(fit)) {
    fit <- cfa(model, data = data, ...)
    optimizer <- "nlminb (default)"
    # polish: restart from lavaan's own solution, first with Gauss-Newton
    # (complete data without equality constraints), then with BFGS at a tiny
    # reltol, and keep the converged restart with the smallest gradient when it
    # is at least ten times smaller than the default fit's.
    grad0 <- max(abs(lavInspect(fit, "optim.gradient")))
    best <- NULL
    best_grad <- grad0 / 10
    # (a restart with start = <lavaan object> frees the fixed.x covariates'
    # moments in lavaan 0.6-14, a different model: models with covariates
    # restart from lavaan's default start values instead)
    restart_from <- if (any(parTable(fit)$exo == 1L)) "default" else fit
    try_fit <- function(label, ...) {
      pol <- tryCatch(suppressWarnings(cfa(model, data = data, ..., start = restart_from)),
                      error = function(e) NULL)
      if (is.null(pol) || !lavInspect(pol, "converged")) return(invisible())
      g <- max(abs(lavInspect(pol, "optim.gradient")))
      if (g < best_grad) {
        best <<- pol
        best_grad <<- g
        optimizer <<- sprintf("%s restart from nlminb (nlminb gradient %.1e)", label, grad0)
      }
    }
    if (!identical(args$missing, "ml") && is.null(args$group.equal)) {
      try_fit("GN (optim.gn.tol.x = 1e-12)", ..., optim.method = "GN", optim.gn.tol.x = 1e-12,
              optim.gn.iter.max = 1000L)
    }
    if (best_grad > 1e-10) {
      try_fit("BFGS (reltol = 1e-16)", ..., optim.method = "BFGS",
              control = list(reltol = 1e-16, maxit = 10000L))
    }
    if (!is.null(best)) {
      # a restart from start = fit also starts lavaan's baseline model there,
      # which can fail (single-indicator factor): the baseline is then refitted
      # from lavaan's default start values (the model is unchanged)
      if (is.na(fitMeasures(best, "baseline.chisq"))) {
        baseline <- lavaan:::lav_object_independence(fit)
      }
      fit <- best
      # a fit made with start = <lavaan object> keeps that object in its
      # options, and lavaan's modindices() (lav_object_extended) then evaluates
      # the extended model at the *start* object's estimates, not at this
      # fit's; reset it so that the MIs belong to the polished estimates
      fit@Options$start <- "default"
    }
  }
  out_grad <- max(abs(lavInspect(fit, "optim.gradient")))
  ng <- lavInspect(fit, "ngroups")
  pe <- parameterEstimates(fit, standardized = TRUE, remove.eq = FALSE, remove.ineq = FALSE,
                           remove.def = FALSE)
  fm <- if (is.null(baseline)) fitMeasures(fit) else fitMeasures(fit, baseline.model = baseline)
  fm <- as.list(setNames(as.numeric(fm), names(fm)))
  implied <- lavInspect(fit, "implied")
  samp <- lavInspect(fit, "sampstat")
  if (ng == 1) { implied <- list(implied); samp <- list(samp) }
  groups <- lapply(seq_len(ng), function(g) {
    out <- list(implied_cov = mat(implied[[g]]$cov),
                sample_cov = mat(samp[[g]]$cov))
    if (!is.null(implied[[g]]$mean)) out$implied_mean <- as.list(implied[[g]]$mean)
    if (!is.null(samp[[g]]$mean)) out$sample_mean <- as.list(samp[[g]]$mean)
    out
  })
  r2 <- lavInspect(fit, "r2")
  if (ng == 1) r2 <- list(r2)
  res_cor <- residuals(fit, type = "cor.bollen")
  res_raw <- residuals(fit, type = "raw")
  lres <- lavResiduals(fit)
  if (ng == 1) { res_cor <- list(res_cor); res_raw <- list(res_raw); lres <- list(lres) }
  out <- list(
    call = list(...),
    model = model,
    lavaan_version = as.character(packageVersion("lavaan")),
    nobs = as.list(lavInspect(fit, "nobs")),
    group_labels = as.list(lavInspect(fit, "group.label")),
    converged = lavInspect(fit, "converged"),
    max_abs_gradient = out_grad,
    optimizer = optimizer,
    options = list(information = lavInspect(fit, "options")$information,
                   se = lavInspect(fit, "options")$se,
                   test = lavInspect(fit, "options")$test),
    partable = cols(parTable(fit)),
    pe = cols(pe),
    fit = fm,
    groups = groups,
    r2 = lapply(r2, function(v) as.list(v)),
    resid_raw = lapply(res_raw, function(r) mat(r$cov)),
    resid_raw_mean = lapply(res_raw, function(r) if (is.null(r$mean)) NULL else as.list(r$mean)),
    resid_cor = lapply(res_cor, function(r) mat(r$cov)),
    resid_cor_mean = lapply(res_cor, function(r) if (is.null(r$mean)) NULL else as.list(r$mean)),
    lavres_cor = lapply(lres, function(r) mat(r$cov)),
    lavres_cor_z = lapply(lres, function(r) mat(r$cov.z)),
    lavres_summary = lapply(lres, function(r) cols(r$summary))
  )
  # standardized solution with delta-method standard errors (type = "std.all")
  out$std_all <- cols(standardizedSolution(fit, type = "std.all", remove.eq = FALSE,
                                           remove.ineq = FALSE, remove.def = FALSE))
  if (mi) {
    m <- modindices(fit, sort. = FALSE)
    out$mi <- cols(m)
  }
  out
}

# ----------------------------------------------------------------- data
hs <- raw("holzinger_swineford1939")
mobi <- raw("mobi")
bfi <- raw("bfi")

hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
ecsi_model <- "
  IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
  CUEX =~ CUEX1 + CUEX2 + CUEX3
  PERQ =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
  PERV =~ PERV1 + PERV2
  CUSA =~ CUSA1 + CUSA2 + CUSA3
  CUSL =~ CUSL1 + CUSL2 + CUSL3
"
bfi_model <- "
  A =~ A1 + A2 + A3 + A4 + A5
  C =~ C1 + C2 + C3 + C4 + C5
  E =~ E1 + E2 + E3 + E4 + E5
  N =~ N1 + N2 + N3 + N4 + N5
  O =~ O1 + O2 + O3 + O4 + O5
"

# ----------------------------------------------------------------- HS39
if (want("hs39")) save(list(
  ml = case(hs_model, hs, estimator = "ML"),
  ml_stdlv = case(hs_model, hs, estimator = "ML", std.lv = TRUE, mi = FALSE),
  mlr = case(hs_model, hs, estimator = "MLR"),
  ml_mean = case(hs_model, hs, estimator = "ML", meanstructure = TRUE),
  labels = case("
    visual  =~ x1 + a*x2 + a*x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9
    x7 ~~ x8
    textual ~ visual
    speed ~ textual
  ", hs, estimator = "ML", mi = FALSE)
), "hs39")

if (want("hs39_school")) save(list(
  ml = case(hs_model, hs, estimator = "ML", group = "school"),
  mlr = case(hs_model, hs, estimator = "MLR", group = "school", mi = FALSE),
  metric = case(hs_model, hs, estimator = "ML", group = "school", group.equal = "loadings"),
  scalar = case(hs_model, hs, estimator = "ML", group = "school",
                group.equal = c("loadings", "intercepts")),
  scalar_mlr = case(hs_model, hs, estimator = "MLR", group = "school",
                    group.equal = c("loadings", "intercepts"), mi = FALSE),
  partial = case(hs_model, hs, estimator = "ML", group = "school",
                 group.equal = c("loadings", "intercepts", "residuals"),
                 group.partial = c("visual=~x2", "x3~1"), mi = FALSE)
), "hs39_school")

# ----------------------------------------------------------------- mobi ECSI
if (want("mobi")) save(list(ml = case(ecsi_model, mobi, estimator = "ML"),
          mlr = case(ecsi_model, mobi, estimator = "MLR", mi = FALSE)), "mobi")

# ----------------------------------------------------------------- identification (mobi)
# Full ECSI measurement model with the single-indicator factor COMPL =~ CUSCO
# (lavaan's auto.fix.single fixes the residual variance of CUSCO to 0); models
# whose identification rests on factor covariances (2-indicator PERV) and a
# method-factor model with equal loadings (singular information at the start
# values, identified at the solution).
ecsi_full <- paste(ecsi_model, "  COMPL =~ CUSCO\n")
perv_model <- "
  PERQ =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
  PERV =~ PERV1 + PERV2
  CUSA =~ CUSA1 + CUSA2 + CUSA3
"
perv2_model <- "
  CUEX =~ CUEX1 + CUEX2 + CUEX3
  PERV =~ PERV1 + PERV2
"
method_model <- "
  CUEX =~ CUEX1 + CUEX2 + CUEX3
  PERV =~ PERV1 + PERV2
  CUSA =~ CUSA1 + CUSA2 + CUSA3
  CMF =~ m*CUEX1 + m*CUEX2 + m*CUEX3 + m*PERV1 + m*PERV2 + m*CUSA1 + m*CUSA2 + m*CUSA3
  CMF ~~ 0*CUEX + 0*PERV + 0*CUSA
"
if (want("mobi_ident")) save(list(ecsi_full = case(ecsi_full, mobi, estimator = "ML", mi = FALSE),
          ecsi_full_stdlv = case(ecsi_full, mobi, estimator = "ML", std.lv = TRUE, mi = FALSE),
          perv = case(perv_model, mobi, estimator = "ML", mi = FALSE),
          perv2 = case(perv2_model, mobi, estimator = "ML", mi = FALSE),
          method = case(method_model, mobi, estimator = "ML", mi = FALSE)), "mobi_ident")

# ----------------------------------------------------------------- bfi FIML
# lavaan missing = "ml" keeps every case with at least one observed item.
if (want("bfi_fiml")) save(list(
  n_rows = nrow(bfi),
  ml = case(bfi_model, bfi, estimator = "ML", missing = "ml", mi = FALSE),
  mlr = case(bfi_model, bfi, estimator = "MLR", missing = "ml", mi = FALSE)
), "bfi_fiml")

# ----------------------------------------------------------------- simulated
# Simulated (seeded) data: two correlated factors, one omitted cross-loading
# (y5 on f1) and one omitted residual covariance (y2 ~~ y7): a misspecified model.
set.seed(20240611)
n <- 400
pop <- "
  f1 =~ 0.8*y1 + 0.7*y2 + 0.6*y3 + 0.7*y4 + 0.4*y5
  f2 =~ 0.7*y5 + 0.6*y6 + 0.8*y7 + 0.5*y8
  f1 ~~ 0.4*f2
  f1 ~~ 1*f1
  f2 ~~ 1*f2
  y1 ~~ 0.36*y1
  y2 ~~ 0.51*y2
  y3 ~~ 0.64*y3
  y4 ~~ 0.51*y4
  y5 ~~ 0.45*y5
  y6 ~~ 0.64*y6
  y7 ~~ 0.36*y7
  y8 ~~ 0.75*y8
  y2 ~~ 0.2*y7
"
sim <- simulateData(pop, sample.nobs = n)
sim <- round(sim, 6)
sim_model <- "
  f1 =~ y1 + y2 + y3 + y4
  f2 =~ y5 + y6 + y7 + y8
"
if (want("sim")) save(list(
  data = cols(sim),
  ml = case(sim_model, sim, estimator = "ML"),
  mlr = case(sim_model, sim, estimator = "MLR", mi = FALSE)
), "sim")

# ----------------------------------------------------------------- constraints
# Defined parameters (:=) and linear equality constraints (==).  lavaan
# reports := rows with delta-method standard errors (MLR: from the sandwich)
# and counts each == as one degree of freedom.
hs_def <- "
  visual  =~ x1 + a*x2 + b*x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  ab := a*b
  d := a - b
  q := sqrt(a) / (1 + b^2)
"
# latent mean difference between schools after scalar invariance: the group-1
# mean is labelled m1 and constrained to 0 (lavaan's identification), the
# group-2 mean m2 is free
hs_gap <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  visual ~ c(m1, m2)*1
  m1 == 0
  gap := m2 - m1
  gap_sd := (m2 - m1) / sqrt(vv)
  visual ~~ c(vv, vv2)*visual
"
# structural model between latent variables with an indirect effect
hs_ind <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  textual ~ a*visual
  speed ~ b*textual + c*visual
  ind := a*b
  total := c + a*b
"
# linear equality constraints across factors
hs_lin <- "
  visual  =~ x1 + a*x2 + b*x3
  textual =~ x4 + c*x5 + d*x6
  speed   =~ x7 + e*x8 + f*x9
  a == c
  b + d == 2
  e == 1.2*f
  s := a + b + c + d
"
# linear inequality constraints: a > 0.7 is active at the solution (the
# unconstrained estimate is 0.55), b > 0 is not
hs_ineq <- "
  visual  =~ x1 + a*x2 + b*x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
  a > 0.7
  b > 0
  ab := a*b
"
ineq_at <- function(estimator) {
  cfa(sub("b > 0", "", sub("a > 0.7", "a == 0.7", hs_ineq, fixed = TRUE), fixed = TRUE),
      data = hs, estimator = estimator, optim.method = "GN", optim.gn.tol.x = 1e-12,
      optim.gn.iter.max = 1000L)
}
if (want("constraints")) save(list(
  def_ml = case(hs_def, hs, estimator = "ML", mi = FALSE),
  def_mlr = case(hs_def, hs, estimator = "MLR", mi = FALSE),
  gap_ml = case(hs_gap, hs, estimator = "ML", group = "school",
                group.equal = c("loadings", "intercepts"), mi = FALSE),
  gap_mlr = case(hs_gap, hs, estimator = "MLR", group = "school",
                 group.equal = c("loadings", "intercepts"), mi = FALSE),
  ind_ml = case(hs_ind, hs, estimator = "ML", mi = FALSE),
  ind_mlr = case(hs_ind, hs, estimator = "MLR", mi = FALSE),
  lin_ml = case(hs_lin, hs, estimator = "ML", mi = FALSE),
  lin_mlr = case(hs_lin, hs, estimator = "MLR", mi = FALSE),
  ineq_ml = case(hs_ineq, hs, estimator = "ML", mi = FALSE, at = ineq_at("ML")),
  ineq_mlr = case(hs_ineq, hs, estimator = "MLR", mi = FALSE, at = ineq_at("MLR"))
), "constraints")
# MIMIC: latent variables regressed on observed exogenous covariates (lavaan's
# defaults fixed.x = TRUE, conditional.x = FALSE: the covariates' variances,
# covariances and means are fixed at their sample values, N denominator), and
# a direct effect of a covariate on an indicator (x3 ~ sex)
hs_mimic <- paste(hs_model, "
  visual  ~ ageyr
  textual ~ ageyr + sex
")
hs_direct <- paste(hs_mimic, "
  x3 ~ sex
")
# a latent mediator: covariates and a factor predicting factors
hs_struct <- paste(hs_model, "
  visual  ~ ageyr + grade
  textual ~ visual + sex
  speed   ~ textual + ageyr
")
hs_cl <- hs
hs_cl$cl5 <- (seq_len(nrow(hs)) - 1L) %/% 5L  # as tests/r/cfa_cluster.R
# cluster-robust MLR (lavResiduals is not available with clusters: a smaller record)
case_cluster <- function(model, data, ...) {
  fit <- cfa(model, data = data, ..., optim.method = "GN", optim.gn.tol.x = 1e-12,
             optim.gn.iter.max = 1000L)
  fm <- fitMeasures(fit)
  list(call = list(...), model = model, lavaan_version = as.character(packageVersion("lavaan")),
       converged = lavInspect(fit, "converged"),
       max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
       optimizer = "GN (optim.gn.tol.x = 1e-12)",
       options = list(se = lavInspect(fit, "options")$se, test = lavInspect(fit, "options")$test),
       partable = cols(parTable(fit)),
       pe = cols(parameterEstimates(fit, standardized = TRUE)),
       fit = as.list(setNames(as.numeric(fm), names(fm))))
}
if (want("covariates")) save(list(
  ml = case(hs_mimic, hs, estimator = "ML"),
  mlr = case(hs_mimic, hs, estimator = "MLR", mi = FALSE),
  school_ml = case(hs_mimic, hs, estimator = "ML", group = "school"),
  school_mlr = case(hs_mimic, hs, estimator = "MLR", group = "school", mi = FALSE),
  direct_ml = case(hs_direct, hs, estimator = "ML"),
  direct_mlr = case(hs_direct, hs, estimator = "MLR", mi = FALSE),
  mean_stdlv = case(hs_mimic, hs, estimator = "ML", meanstructure = TRUE, std.lv = TRUE, mi = FALSE),
  school_equal = case(hs_mimic, hs, estimator = "ML", group = "school",
                      group.equal = c("loadings", "intercepts", "regressions"), mi = FALSE),
  school_equal_mlr = case(hs_direct, hs, estimator = "MLR", group = "school",
                          group.equal = c("loadings", "intercepts", "regressions"), mi = FALSE),
  cluster_mlr = case_cluster(hs_direct, hs_cl, estimator = "MLR", cluster = "cl5"),
  struct_ml = case(hs_struct, hs, estimator = "ML", mi = FALSE),
  struct_mlr = case(hs_struct, hs, estimator = "MLR", mi = FALSE)
), "covariates")
cat("done\n")
