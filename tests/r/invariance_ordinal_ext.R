# Golden values for the extensions of custval.invariance.measurement_invariance with ordered
# items (WLSMV): binary items and mixtures of binary and polytomous items, missing = "pairwise",
# the strict level (theta parameterization: measEq.syntax refuses equal residual variances under
# delta) and releases in one group only.  Each level as semTools::measEq.syntax(ID.cat =
# "Wu.Estabrook.2016", ID.fac = "std.lv") generates it, fitted by lavaan (WLSMV), and the
# scaled-shifted difference tests of lavaan::lavTestLRT (its default for WLSMV).
#
# Run from the repository root:  Rscript tests/r/invariance_ordinal_ext.R [name ...]
# Writes tests/golden/invariance_ordinal/ext_*.json and the simulated fixture
# tests/golden/invariance_ordinal/sim_binary.csv: three survey channels (web, phone, store),
# eight yes/no items b1..b8 (0/1) and four four-category items p1..p4; b2's threshold is
# shifted by +0.7 in channel "phone" (the known truth: threshold non-invariance of b2 only).
#
# A release in one group only (measEq.syntax's group.partial frees a parameter in every group)
# is built from two measEq.syntax calls: the syntax without the release and the syntax with it
# in group.partial; the released group's column of every c(...) vector of the changed lines is
# taken from the second (its own label, and its intercept and scale factor as measEq.syntax's
# rule gives them for that group), the other groups' columns from the first.
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

# split "c(a, b, c)" vectors of a syntax line
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

level_syntax <- function(model, data, items, group, lv, partial, parameterization, per_group) {
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
  keep <- c("npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled",
            "chisq.scaling.factor", "cfi", "tli", "rmsea", "cfi.scaled", "tli.scaled",
            "rmsea.scaled", "srmr", "ntotal")
  lrt_out <- if (inherits(lrt, "error")) list(error = conditionMessage(lrt)) else
    list(chisq = unname(lrt[["Chisq"]]), df = unname(lrt[["Df"]]),
         chisq_diff = unname(lrt[["Chisq diff"]]), df_diff = unname(lrt[["Df diff"]]),
         pvalue = unname(lrt[["Pr(>Chisq)"]]))
  # pairs of adjacent levels, each tested alone (lavTestLRT drops a pair with equal df)
  pairs <- lapply(seq_along(fits)[-1], function(i) {
    r <- tryCatch(lavTestLRT(fits[[i - 1]], fits[[i]]), error = function(e) e)
    if (inherits(r, "error")) return(list(level = names(fits)[i], error = conditionMessage(r)))
    list(level = names(fits)[i], chisq_diff = r[["Chisq diff"]][2], df_diff = r[["Df diff"]][2],
         pvalue = r[["Pr(>Chisq)"]][2])
  })
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    semtools_version = as.character(packageVersion("semTools")),
    partial = partial, per_group = per_group, parameterization = parameterization,
    missing = missing, group_labels = lavInspect(fits[[1]], "group.label"),
    nobs = lavInspect(fits[[1]], "nobs"),
    levels = lapply(names(fits), function(lv) list(
      level = lv, syntax = syn[[lv]],
      converged = lavInspect(fits[[lv]], "converged"),
      fit = as.list(unclass(fitMeasures(fits[[lv]], keep))),
      params = cols(parameterEstimates(fits[[lv]])))),
    lrt = lrt_out, pairs = pairs
  )
  save(out, name)
  cat(name, "\n"); str(lrt_out); str(pairs)
  invisible(fits)
}

# ---------------------------------------------------------------- simulated yes/no survey
sim_file <- file.path(out_dir, "sim_binary.csv")
if (!file.exists(sim_file)) {
  set.seed(20261208)
  lam <- c(.8, .7, .6, .75, .7, .65, .8, .55)
  fac <- rep(1:2, each = 4)
  cuts_b <- c(-0.3, 0.2, -0.6, 0.5, 0.1, -0.4, 0.3, -0.1)
  cuts_p <- c(-1.2, 0.0, 1.0)
  make <- function(n, grp, mean, var, shift) {
    phi <- matrix(c(var, .4 * var, .4 * var, var), 2)
    eta <- MASS::mvrnorm(n, rep(mean, 2), phi)
    d <- data.frame(channel = rep(grp, n))
    for (j in 1:8) {
      ystar <- lam[j] * eta[, fac[j]] + sqrt(1 - lam[j]^2) * rnorm(n)
      d[[paste0("b", j)]] <- as.integer(ystar > cuts_b[j] + if (j == 2) shift else 0)
    }
    for (j in 1:4) {
      l <- c(.7, .6, .75, .65)[j]
      ystar <- l * eta[, if (j <= 2) 1 else 2] + sqrt(1 - l^2) * rnorm(n)
      d[[paste0("p", j)]] <- findInterval(ystar, cuts_p) + 1L
    }
    d
  }
  sim <- rbind(make(800, "web", 0, 1, 0), make(700, "phone", 0.3, 1.3, 0.7),
               make(600, "store", -0.2, 0.9, 0))
  sim <- cbind(id = seq_len(nrow(sim)), sim)
  write.csv(sim, sim_file, row.names = FALSE)
}
sim <- read.csv(sim_file)
sim2 <- sim[sim$channel != "store", ]
bin <- paste0("b", 1:8)
m_bin <- "F1 =~ b1 + b2 + b3 + b4\nF2 =~ b5 + b6 + b7 + b8"
mix <- c("b1", "b2", "p1", "p2", "b5", "b6", "p3", "p4")
m_mix <- "F1 =~ b1 + b2 + p1 + p2\nF2 =~ b5 + b6 + p3 + p4"

# (i) binary items, two channels: the thresholds level is equivalent to the configural model
#     (df difference 0); b2's shifted threshold shows at the scalar level
ladder("ext_sim_binary", m_bin, sim2, bin, "channel")
ladder("ext_sim_binary_partial", m_bin, sim2, bin, "channel", partial = "b2|t1")
ladder("ext_sim_binary_theta", m_bin, sim2, bin, "channel", parameterization = "theta",
       levels = names(LEVELS))
# mixture of binary and four-category items
ladder("ext_sim_mixed", m_mix, sim2, mix, "channel")
ladder("ext_sim_mixed_partial", m_mix, sim2, mix, "channel", partial = c("p1|t2", "b5 ~ 1"))

# (ii) bfi by gender with the missing answers kept (missing = "pairwise")
bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
bfi_g <- bfi[!is.na(bfi$gender), c(ac, "gender")]
m_ac <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
ladder("ext_bfi_pairwise", m_ac, bfi_g, ac, "gender", missing = "pairwise")

# (iii) the strict level (theta: residual variances fixed at 1 in every group)
bfi_acg <- bfi_g[complete.cases(bfi_g), ]
ladder("ext_bfi_strict_theta", m_ac, bfi_acg, ac, "gender", parameterization = "theta",
       levels = names(LEVELS))
ladder("ext_sim_mixed_strict_theta", m_mix, sim2, mix, "channel", parameterization = "theta",
       levels = names(LEVELS))

# (iv) releases in one group only: three channels, b2's threshold free in "phone" alone;
#      and p1's intercept free in "store" alone
ladder("ext_sim3_binary_pergroup", m_bin, sim, bin, "channel", per_group = list("b2|t1" = "phone"))
ladder("ext_sim3_mixed_pergroup", m_mix, sim, mix, "channel",
       per_group = list("b2|t1" = "phone", "p1 ~ 1" = "store"))
#      a loading free in "store" alone (with b2's threshold free in "phone" alone)
ladder("ext_sim3_mixed_pergroup_loading", m_mix, sim, mix, "channel",
       per_group = list("F1 =~ p2" = "store", "b2|t1" = "phone"))

# continuous items for comparison: a release in one of three groups (lavaan labels), equated
# only at the level that equates its type -- Holzinger-Swineford split into three groups by
# row (grp = a, b, c in turn), ML; x3's intercept free in group b alone, visual =~ x2 likewise
if (want("ext_hs3_pergroup")) {
  hs <- raw("holzinger_swineford1939")
  hs$grp <- c("a", "b", "c")[(seq_len(nrow(hs)) - 1) %% 3 + 1]
  m_hs <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
  run <- function(extra, equal, partial) {
    model <- if (is.null(extra)) sub("x1 + x2", "x1 + c(l1, l2, l1)*x2", m_hs, fixed = TRUE) else
      paste(m_hs, extra, sep = "\n")
    f <- cfa(model, data = hs, group = "grp", group.equal = equal,
             group.partial = partial)
    as.list(fitMeasures(f, c("chisq", "df")))
  }
  out <- list(
    intercept = list(
      configural = run("", "", ""), metric = run("", "loadings", ""),
      scalar = run("x3 ~ c(i1, i2, i1)*1", c("loadings", "intercepts"), "x3 ~ 1")),
    loading = list(
      configural = run("", "", ""),
      metric = run(NULL, "loadings", "visual =~ x2"),
      scalar = run(NULL, c("loadings", "intercepts"), "visual =~ x2")))
  save(list(lavaan_version = as.character(packageVersion("lavaan")), cases = out), "ext_hs3_pergroup")
  str(out)
}

# ranking the strict constraints (theta) of the mixed set: each residual variance released
# alone, compared with the strict model by lavTestLRT
if (want("ext_sim_mixed_rank_strict")) {
  fit_level <- function(partial) {
    s <- measEq.syntax(m_mix, data = sim2, ordered = mix, parameterization = "theta", ID.fac = "std.lv",
                       ID.cat = "Wu.Estabrook.2016", group = "channel",
                       group.equal = LEVELS$strict, group.partial = partial)
    cfa(as.character(s), data = sim2, ordered = mix, group = "channel", estimator = "WLSMV",
        parameterization = "theta")
  }
  base <- fit_level("")
  out <- list()
  for (v in mix) {
    p <- paste(v, "~~", v)
    lrt <- lavTestLRT(fit_level(p), base)
    out[[p]] <- list(chisq_diff = lrt[["Chisq diff"]][2], df_diff = lrt[["Df diff"]][2],
                     pvalue = lrt[["Pr(>Chisq)"]][2])
  }
  save(list(lavaan_version = as.character(packageVersion("lavaan")), candidates = out),
       "ext_sim_mixed_rank_strict")
  str(out)
}
