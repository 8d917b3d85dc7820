Set re = New RegExp
re.Pattern = "(a+)(?=b)"
re.Global = True
Set m = re.Execute("aab ab")
For Each x In m : s = s & x.SubMatches(0) : Next
r = re.Replace("aab", "$1-")
