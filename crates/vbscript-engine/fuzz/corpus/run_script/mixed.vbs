Set d = CreateObject("Scripting.Dictionary")
d.Add "k", Array(1, 2)
Dim a()
ReDim Preserve a(3)
a(1) = d("k")(1)
On Error Resume Next
Err.Raise 5
Select Case Err.Number
Case 5: x = DateAdd("d", 1, Now)
Case Else: x = 0
End Select
