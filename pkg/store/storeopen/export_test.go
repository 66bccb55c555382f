package storeopen

// SQLitePath is sqlitePath, for the tests.
var SQLitePath = sqlitePath
