# Golden values for custval.invariance.measurement_invariance with a mix of ordered and
# continuous items (WLSMV, ordered = some items): each level as semTools::measEq.syntax(ordered =
# items, ID.cat = "Wu.Estabrook.2016", ID.fac = "std.lv") generates it -- the ordered items follow
# Wu & Estabrook (2016), the continuous items' intercepts are free in every group up to the scalar
# level and their residual variances up to the strict level -- fitted by lavaan (WLSMV), and the
# scaled-shifted difference tests of lavaan::lavTestLRT (its default for WLSMV).
#
# Run from the repository root:  Rscript tests/r/invariance_ordinal_mixed.R [name ...]
# Writes tests/golden/invariance_ordinal/mixed_*.json and the simulated fixture
# tests/golden/invariance_ordinal/sim_mixed2.csv: two survey waves (w1, w2), five five-category
# items s1..s5 and four continuous scores r1, c1..c3 (one decimal); c2's intercept is shifted by
# +0.5 in wave w2 (the known truth: intercept non-invariance of the continuous c2 only).
# Reference: lavaan 0.6-14, semTools 0.5-6.
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})

only <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(only) == 0L || name %in% only
out_dir <- file.path("tests", "golden", "invariance_ordinal")
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

LEVELS <- list(configural = "", thresholds = "thresholds",
               metric = c("thresholds", "loadings"),
               scalar = c("thresholds", "loadings", "intercepts"),
               strict = c("thresholds", "loadings", "intercepts", "residuals"))
KEEP <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
          "chisq.scaling.factor", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled",
          "rmsea.scaled", "srmr", "ntotal")

# A release in one group only (measEq.syntax's group.partial frees a parameter in every group)
# is built from two measEq.syntax calls, as in tests/r/invariance_ordinal_ext.R: the released
# group's column of every c(...) vector of the changed lines comes from the syntax with the
# release in group.partial, the other groups' columns from the syntax without it.
vec_re <- "c\\([^()]*\\)"
merge_group <- function(line_f, line_p, k) {
  if (line_f == line_p) return(line_f)
  vf <- regmatches(line_f, gregexpr(vec_re, line_f))[[1]]
  vp <- regmatches(line_p, gregexpr(vec_re, line_p))[[1]]
  stopifnot(length(vf) == length(vp))
  parts <- function(v) trimws(strsplit(sub("^c\\((.*)\\)$", "\\1", v), ",")[[1]])
  merged <- mapply(function(a, b) {
    a <- parts(a); b <- parts(b); a[k] <- b[k]
    paste0("c(", paste(a, collapse = ", "), ")")
  }, vf, vp)
  rest <- regmatches(line_f, gregexpr(vec_re, line_f), invert = TRUE)[[1]]
  paste0(c(rbind(rest, c(merged, ""))), collapse = "")
}

level_syntax <- function(model, data, items, group, lv, partial, parameterization, per_group = list()) {
  args <- list(model, data = data, ordered = items, parameterization = parameterization,
               ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group = group,
               group.equal = LEVELS[[lv]], group.partial = partial)
  s <- as.character(do.call(measEq.syntax, args))
  for (p in names(per_group)) {
    args$group.partial <- c(if (identical(partial, "")) character(0) else partial, p)
    sp <- as.character(do.call(measEq.syntax, args))
    lf <- strsplit(s, "\n", fixed = TRUE)[[1]]
    lp <- strsplit(sp, "\n", fixed = TRUE)[[1]]
    stopifnot(length(lf) == length(lp))
    k <- match(per_group[[p]], unique(as.character(data[[group]])))  # lavaan's group order
    for (kk in k) lf <- mapply(merge_group, lf, lp, MoreArgs = list(k = kk), USE.NAMES = FALSE)
    s <- paste(lf, collapse = "\n")
  }
  s
}

ladder <- function(name, model, data, items, group, partial = "", parameterization = "delta",
                   levels = names(LEVELS)[1:4], missing = "listwise", per_group = list()) {
  if (!want(name)) return(invisible(NULL))
  fits <- list()
  syn <- list()
  for (lv in levels) {
    syn[[lv]] <- level_syntax(model, data, items, group, lv, partial, parameterization, per_group)
    fits[[lv]] <- cfa(syn[[lv]], data = data, ordered = items, group = group,
                      estimator = "WLSMV", parameterization = parameterization, missing = missing)
  }
  lrt <- tryCatch(do.call(lavTestLRT, unname(fits)), error = function(e) e)
  lrt_out <- if (inherits(lrt, "error")) list(error = conditionMessage(lrt)) else
    list(chisq = unname(lrt[["Chisq"]]), df = unname(lrt[["Df"]]),
         chisq_diff = unname(lrt[["Chisq diff"]]), df_diff = unname(lrt[["Df diff"]]),
         pvalue = unname(lrt[["Pr(>Chisq)"]]))
  pairs <- lapply(seq_along(fits)[-1], function(i) {
    r <- tryCatch(lavTestLRT(fits[[i - 1]], fits[[i]]), error = function(e) e)
    if (inherits(r, "error")) return(list(level = names(fits)[i], error = conditionMessage(r)))
    list(level = names(fits)[i], chisq_diff = r[["Chisq diff"]][2], df_diff = r[["Df diff"]][2],
         pvalue = r[["Pr(>Chisq)"]][2])
  })
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    semtools_version = as.character(packageVersion("semTools")),
    ordered = items, partial = partial, per_group = per_group, parameterization = parameterization,
    missing = missing, group_labels = lavInspect(fits[[1]], "group.label"),
    nobs = lavInspect(fits[[1]], "nobs"),
    levels = lapply(names(fits), function(lv) list(
      level = lv, syntax = syn[[lv]],
      converged = lavInspect(fits[[lv]], "converged"),
      fit = as.list(unclass(fitMeasures(fits[[lv]], KEEP))),
      params = cols(parameterEstimates(fits[[lv]])))),
    lrt = lrt_out, pairs = pairs
  )
  save(out, name)
  cat(name, "\n"); str(lrt_out); str(pairs)
  invisible(fits)
}

# ---------------------------------------------------------------- simulated two-wave survey
sim_file <- file.path(out_dir, "sim_mixed2.csv")
cuts <- c(-1.5, -0.6, 0.3, 1.1)
make <- function(n, grp, mean, var, shift) {
  phi <- matrix(c(var, .5 * var, .5 * var, var), 2)
  eta <- MASS::mvrnorm(n, rep(mean, 2), phi)
  d <- data.frame(wave = rep(grp, n))
  lam_s <- c(.75, .7, .65, .8, .7)
  fac_s <- c(1, 1, 1, 2, 2)
  for (j in 1:5) {
    ystar <- lam_s[j] * eta[, fac_s[j]] + sqrt(1 - lam_s[j]^2) * rnorm(n)
    d[[paste0("s", j)]] <- findInterval(ystar, cuts + (j - 3) * 0.1) + 1L
  }
  # continuous scores: intercept + loading * eta + residual, one decimal
  d$r1 <- round(7 + 1.4 * eta[, 1] + rnorm(n, sd = 1.2), 1)
  d$c1 <- round(5 + 0.9 * eta[, 2] + rnorm(n, sd = 0.8), 1)
  d$c2 <- round(4 + shift + 0.8 * eta[, 2] + rnorm(n, sd = 0.9), 1)
  d$c3 <- round(6 + 1.1 * eta[, 2] + rnorm(n, sd = 1.0), 1)
  d
}
if (!file.exists(sim_file)) {
  set.seed(20261207)
  sim <- rbind(make(650, "w1", 0, 1, 0), make(550, "w2", 0.25, 1.2, 0.5))
  sim <- cbind(id = seq_len(nrow(sim)), sim)
  write.csv(sim, sim_file, row.names = FALSE)
}
sim <- read.csv(sim_file)
m_sim <- "F1 =~ s1 + s2 + s3 + r1\nF2 =~ s4 + s5 + c1 + c2 + c3"
ord_sim <- paste0("s", 1:5)
ladder("mixed_sim", m_sim, sim, ord_sim, "wave")
ladder("mixed_sim_theta", m_sim, sim, ord_sim, "wave", parameterization = "theta",
       levels = names(LEVELS))
ladder("mixed_sim_partial", m_sim, sim, ord_sim, "wave", partial = c("c2 ~ 1", "s2|t2"))

# three waves (a third wave w3 like w1, simulated after the two-wave file): c2's intercept
# released in wave w2 alone, w1 and w3 sharing theirs; and a threshold released in w3 alone
sim3_file <- file.path(out_dir, "sim_mixed3.csv")
if (!file.exists(sim3_file)) {
  set.seed(20261208)
  w3 <- make(500, "w3", -0.1, 0.9, 0)
  sim3 <- rbind(sim, cbind(id = nrow(sim) + seq_len(nrow(w3)), w3))
  write.csv(sim3, sim3_file, row.names = FALSE)
}
sim3 <- read.csv(sim3_file)
ladder("mixed_sim3_pergroup", m_sim, sim3, ord_sim, "wave",
       per_group = list("c2 ~ 1" = "w2", "s4|t1" = "w3"))

# ranking the scalar constraints of the simulated set: each intercept (ordered and continuous)
# released alone, compared with the scalar model by lavTestLRT
if (want("mixed_sim_rank_scalar")) {
  fit_level <- function(partial) {
    s <- level_syntax(m_sim, sim, ord_sim, "wave", "scalar", partial, "delta")
    cfa(s, data = sim, ordered = ord_sim, group = "wave", estimator = "WLSMV")
  }
  base <- fit_level("")
  out <- list()
  for (v in c("s1", "s2", "s3", "r1", "s4", "s5", "c1", "c2", "c3")) {
    p <- paste(v, "~ 1")
    lrt <- lavTestLRT(fit_level(p), base)
    out[[p]] <- list(chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                     pvalue = lrt[["Pr(>Chisq)"]][2])
  }
  save(list(lavaan_version = as.character(packageVersion("lavaan")), candidates = out),
       "mixed_sim_rank_scalar")
  str(out)
}

# ---------------------------------------------------------------- bfi by gender
bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
ord_bfi <- c("A1", "A2", "A3", "C1", "C2")  # the other five treated as continuous
m_ac <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
bfi_g <- bfi[!is.na(bfi$gender), c(ac, "gender")]
bfi_cc <- bfi_g[complete.cases(bfi_g), ]
ladder("mixed_bfi", m_ac, bfi_cc, ord_bfi, "gender")
ladder("mixed_bfi_theta", m_ac, bfi_cc, ord_bfi, "gender", parameterization = "theta",
       levels = names(LEVELS))
ladder("mixed_bfi_pairwise", m_ac, bfi_g, ord_bfi, "gender", missing = "pairwise")
