' Forward messages by header: route by X-Department, copy big messages to an archive
Dim oRoutes

Sub InitRoutes()
   Set oRoutes = CreateObject("Scripting.Dictionary")
   oRoutes.CompareMode = 1
   oRoutes.Add "sales", "sales-team@example.com"
   oRoutes.Add "support", "helpdesk@example.com"
End Sub

Function DepartmentOf(oMessage)
   Dim sDept, re, oMatches
   sDept = Trim(oMessage.HeaderValue("X-Department"))
   If sDept = "" Then
      Set re = New RegExp
      re.Pattern = "^\[(\w+)\]"
      re.IgnoreCase = True
      Set oMatches = re.Execute(oMessage.Subject)
      If oMatches.Count > 0 Then sDept = oMatches(0).SubMatches(0)
   End If
   DepartmentOf = LCase(sDept)
End Function

Sub OnAcceptMessage(oClient, oMessage)
   Dim sDept, i, sList
   If IsEmpty(oRoutes) Then InitRoutes
   sDept = DepartmentOf(oMessage)
   If oRoutes.Exists(sDept) Then
      oMessage.AddRecipient sDept, oRoutes(sDept)
      EventLog.Write "Forwarded to " & oRoutes.Item(sDept)
   End If
   For i = 0 To oMessage.Recipients.Count - 1
      sList = sList & "Recipient " & i+1 & ": " & oMessage.Recipients(i).Address & vbCrLf
   Next
   oMessage.HeaderValue("X-Recipient-List") = Replace(Trim(sList), vbCrLf, "; ")
   If oMessage.Size > 1000000 Then
      oMessage.AddRecipient "Archive", "archive@example.com"
   End If
   oMessage.Save
End Sub
