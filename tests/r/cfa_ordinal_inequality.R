# Golden values for custval.cfa.CFA with ordered items (one and two groups) and linear inequality
# constraints ('<', '>'): lavaan 0.6-14, WLSMV, delta parameterization.
#
# Run from the repository root:  Rscript tests/r/cfa_ordinal_inequality.R
# Writes tests/golden/cfa_ordinal_inequality/*.json (jsonlite, digits = NA).
#
# lavaan fits inequality constraints with nlminb.constr; an active constraint holds as an
# equality for the estimates and the robust standard errors (lavaan reports se NA for the
# parameter at its bound) but, unlike '==', does not change npar or df.  Each case is also
# refitted from the solution of the model with the active constraint written as '==' (the
# same minimum; max_abs_difference is the largest difference between the two estimates).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_ordinal_inequality")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
case <- function(name, model, model_eq, data, ...) {
  args <- list(...)
  fe <- do.call("cfa", c(list(model = model_eq, data = data), args))
  fit <- do.call("cfa", c(list(model = model, data = data, start = fe), args))
  pe <- parameterEstimates(fit)
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    call = deparse(sys.call()), args = args, model = model,
    max_abs_difference = max(abs(pe$est[pe$op != "<" & pe$op != ">"] - parameterEstimates(fe)$est[parameterEstimates(fe)$op != "=="])),
    params = cols(pe),
    fit = as.list(unclass(fitMeasures(fit)))
  )
  write_json(out, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = FALSE, na = "null")
  cat(name, ": chisq", fitMeasures(fit, "chisq"), " df", fitMeasures(fit, "df"), "\n")
}
bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
bfi_ac <- bfi[complete.cases(bfi[, ac]), ]
# A2's loading is -1.65 unconstrained (A1 is reverse-worded): 'a < -2' binds, 'c > 0.5' (C3,
# about 1.0) does not
m <- "A =~ A1 + a*A2 + A3 + A4 + A5\nC =~ C1 + C2 + c*C3 + C4 + C5"
case("bfi_active", paste(m, "a < -2", "c > 0.5", sep = "\n"), paste(m, "a == -2", sep = "\n"), bfi_ac,
     ordered = TRUE, estimator = "WLSMV")
# no active constraint: the unconstrained solution
case("bfi_inactive", paste(m, "a < -1", "c > 0.5", sep = "\n"), m, bfi_ac, ordered = TRUE, estimator = "WLSMV")
# two groups (gender): the A2 loading of the second group bound by 'a2 < -2' (-1.77
# unconstrained), that of the first by 'a1 > -2.5' (-2.01: inactive)
bfi_acg <- bfi[complete.cases(bfi[, c(ac, "gender")]), ]
mg <- "A =~ A1 + c(a1, a2)*A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
case("bfi_groups_active", paste(mg, "a1 > -2.5", "a2 < -2", sep = "\n"), paste(mg, "a2 == -2", sep = "\n"),
     bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender")
