# Golden values for custval.PLS(standardize = False) and plspm's statistics on a fit (GoF,
# communality and redundancy, Dillon-Goldstein rho, the OLS path tests of `inner_model`), computed
# by plspm's own R code.
#
# Run from the repository root:
#   PLSPM_SRC=/path/to/src Rscript tests/r/plspm.R
# PLSPM_SRC holds three source trees side by side, each with its R/ folder:
#   plspm/   https://github.com/gastonstat/plspm  commit bd21cb153021aed6ac6ea51ecbd0b856495b2a16 (0.4.9)
#   tester/  https://github.com/gastonstat/tester commit 863cb587b8d3d9a173f377062aa5313089a2302a (0.1.9)
#   turner/  https://github.com/gastonstat/turner commit 4bb0ffff7c259cb69b91fa3107b5273bcb903db4 (0.1.8)
# (all GPL-3; e.g. `git -C <clone> archive <commit> R | tar -x -C $PLSPM_SRC/plspm`).  plspm is not
# installed: the R files of tester and turner (plspm's pure-R imports) and of plspm are evaluated
# into one environment.  plspm's other imports (diagram, shape, amap) are used only by its plots
# and REBUS, which are not called.
#
# plspm's iteration stops when sum((|w_old| - |w_new|)^2) < tol; custval (as seminr) when
# sum|w_new - w_old| < tol.  Both are run to the fixed point (plspm tol = 1e-24, custval
# tol = 1e-12), where the estimates agree to rounding error whatever the stopping rule.
suppressPackageStartupMessages(library(jsonlite))

src <- Sys.getenv("PLSPM_SRC")
if (!nzchar(src)) {
  message("PLSPM_SRC is not set: tests/golden/pls/plspm.json left unchanged (see tests/r/plspm.R)")
  quit(save = "no", status = 0)
}
env <- new.env()
for (pkg in c("tester", "turner", "plspm")) {
  files <- sort(list.files(file.path(src, pkg, "R"), pattern = "[.][rR]$", full.names = TRUE))
  if (!length(files)) stop("no R files in ", file.path(src, pkg, "R"))
  for (f in files) eval(parse(text = readLines(f, warn = FALSE), keep.source = FALSE), envir = env)
}
attach(env, name = "plspm_src", warn.conflicts = FALSE)

out_dir <- file.path("tests", "golden", "pls")
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
mat <- function(m) {
  m <- as.matrix(m)
  list(rows = rownames(m), cols = colnames(m),
       values = unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ])))))
}
mobi <- raw("mobi")
corp <- raw("corp_rep")

run <- function(call, syntax, options, data, blocks, paths, modes, scheme, scaled, dataset = "mobi") {
  lv <- names(blocks)
  pm <- matrix(0, length(lv), length(lv), dimnames = list(lv, lv))
  for (p in paths) pm[p[2], p[1]] <- 1  # plspm: row = target, column = source
  fit <- plspm(data, pm, unname(blocks), modes = modes, scheme = scheme, scaled = scaled,
               tol = 1e-24, maxiter = 1000)
  om <- fit$outer_model
  outer <- as.matrix(om[, c("weight", "loading", "communality", "redundancy")])
  rownames(outer) <- paste(om$block, om$name, sep = "|")
  inner <- do.call(rbind, lapply(names(fit$inner_model), function(t) {
    m <- fit$inner_model[[t]]
    rownames(m) <- paste(t, rownames(m), sep = "|")
    m
  }))
  colnames(inner) <- c("estimate", "se", "t", "p_value")
  list(call = call, dataset = dataset, syntax = syntax, options = options, n = nrow(fit$scores),
       iterations = fit$model$iter, outer = mat(outer), inner = mat(inner),
       path_coefs = mat(fit$path_coefs), gof = fit$gof,
       unidim = mat(as.matrix(fit$unidim[, c("C.alpha", "DG.rho", "eig.1st", "eig.2nd")])),
       inner_summary = mat(as.matrix(fit$inner_summary[, c("R2", "Block_Communality", "Mean_Redundancy", "AVE")])),
       scores = mat(fit$scores))
}
syntax <- function(blocks, paths, modes) paste(c(
  vapply(seq_along(blocks), function(i) paste(names(blocks)[i], if (modes[i] == "B") "<~" else "=~",
                                              paste(blocks[[i]], collapse = " + ")), ""),
  vapply(unique(vapply(paths, `[`, "", 2)), function(t)
    paste(t, "~", paste(vapply(Filter(function(p) p[2] == t, paths), `[`, "", 1), collapse = " + ")), "")),
  collapse = "\n")

cases <- list()
b4 <- list(Image = paste0("IMAG", 1:5), Expectation = paste0("CUEX", 1:3), Value = paste0("PERV", 1:2),
           Satisfaction = paste0("CUSA", 1:3))
p4 <- list(c("Image", "Expectation"), c("Image", "Value"), c("Expectation", "Value"),
           c("Image", "Satisfaction"), c("Expectation", "Satisfaction"), c("Value", "Satisfaction"))
for (scaled in c(TRUE, FALSE)) for (scheme in c("path", "factorial", "centroid")) {
  nm <- sprintf("mobi4_%s_%s", if (scaled) "scaled" else "raw", scheme)
  cases[[nm]] <- run(sprintf("plspm(mobi, path_matrix, blocks, modes = rep('A', 4), scheme = '%s', scaled = %s, tol = 1e-24, maxiter = 1000)",
                             scheme, scaled),
                     syntax(b4, p4, rep("A", 4)), list(weighting = scheme, standardize = scaled, tol = 1e-12),
                     mobi, b4, p4, rep("A", 4), scheme, scaled)
}
# the ECSI model of seminr's documentation with Image in mode B, raw data
be <- list(Image = paste0("IMAG", 1:5), Expectation = paste0("CUEX", 1:3), Quality = paste0("PERQ", 1:7),
           Value = paste0("PERV", 1:2), Satisfaction = paste0("CUSA", 1:3), Complaints = "CUSCO",
           Loyalty = paste0("CUSL", 1:3))
pe <- list(c("Image", "Expectation"), c("Expectation", "Quality"), c("Expectation", "Value"),
           c("Quality", "Value"), c("Image", "Satisfaction"), c("Expectation", "Satisfaction"),
           c("Quality", "Satisfaction"), c("Value", "Satisfaction"), c("Satisfaction", "Complaints"),
           c("Image", "Loyalty"), c("Satisfaction", "Loyalty"), c("Complaints", "Loyalty"))
me <- c("B", rep("A", 6))
cases$ecsi_raw_image_b <- run(
  "plspm(mobi, ecsi_path_matrix, blocks, modes = c('B', rep('A', 6)), scheme = 'path', scaled = FALSE, tol = 1e-24, maxiter = 1000)",
  syntax(be, pe, me), list(weighting = "path", standardize = FALSE, tol = 1e-12), mobi, be, pe, me, "path", FALSE)
# corp_rep, complete rows only (-99 = missing; custval: missing = "listwise")
cc <- corp
cc[cc == -99] <- NA
cc <- cc[stats::complete.cases(cc[, c(paste0("comp_", 1:3), paste0("like_", 1:3), "cusa", paste0("cusl_", 1:3))]), ]
bc <- list(COMP = paste0("comp_", 1:3), LIKE = paste0("like_", 1:3), CUSA = "cusa", CUSL = paste0("cusl_", 1:3))
pc <- list(c("COMP", "CUSA"), c("LIKE", "CUSA"), c("COMP", "CUSL"), c("LIKE", "CUSL"), c("CUSA", "CUSL"))
cases$corp_rep_raw <- run(
  "plspm(corp_rep[complete.cases(...), ], path_matrix, blocks, modes = rep('A', 4), scheme = 'path', scaled = FALSE, tol = 1e-24, maxiter = 1000)",
  syntax(bc, pc, rep("A", 4)), list(weighting = "path", standardize = FALSE, tol = 1e-12, missing = "listwise"),
  cc, bc, pc, rep("A", 4), "path", FALSE, dataset = "corp_rep")

meta <- list(source = "https://github.com/gastonstat/plspm", commit = "bd21cb153021aed6ac6ea51ecbd0b856495b2a16",
             plspm_version = "0.4.9 (R/*.R evaluated from source with tester 0.1.9 and turner 0.1.8)",
             r_version = R.version.string,
             note = paste("outer rows 'construct|item' (weight, loading, communality, redundancy);",
                          "inner rows 'target|term' (plspm inner_model: lm() of the scores);",
                          "plspm scores and weights are scaled to variance 1 with the n denominator"))
write_json(list(meta = meta, cases = cases), file.path(out_dir, "plspm.json"), digits = NA,
           auto_unbox = TRUE, pretty = FALSE, na = "null")
cat("wrote", file.path(out_dir, "plspm.json"), "\n")
